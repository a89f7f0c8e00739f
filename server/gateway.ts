// The gateway process: Node's HTTP server carrying Apollo Server (POST/GET /graphql), graphql-ws on the same path,
// GraphiQL for browsers, /healthz, /readyz and /metrics. stop() drains HTTP and websocket operations, then closes DuckDB.

import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { type DocumentNode, GraphQLError, type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import pino, { type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Catalog } from '../config';
import { createLakeEngine, createLakeReader, type LakeEngine, type LakeReader } from '../lake';
import { createContext, type GatewayContext } from '../resolvers';
import { buildGatewaySchema, directMutationFields } from '../schema';
import { createErrorFormatter } from './errors';
import { createGraphiqlHandler } from './graphiql';
import { MAX_PAYLOAD_BYTES, MAX_TOKENS, costError, limitRules, variablesError } from './limits';
import { createMetrics, type GatewayMetrics } from './metrics';
import { publishFastPathPlugin } from './publish-fast-path';
import { createKafkaClient, withDeadline, type KafkaClient } from '../kafka';
import { createIngester, type Ingester } from '../ingestion';
import { createLiveHub, createPublisher, type LiveHub, type Publisher } from '../live';

export const GRAPHQL_PATH = '/graphql';
/** How long shutdown waits for running websocket operations. */
const DRAIN_MS = 10_000;

export interface GatewayOptions {
  catalog: Catalog;
  logger?: Logger;
  /** Listen on this port instead of the catalog's (0: any free port). */
  port?: number;
  host?: string;
  /** Also run ingestion in this process (`serve --ingest`): unflushed records are queryable at once. */
  ingest?: boolean;
}

export interface Gateway {
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly schema: GraphQLSchema;
  readonly lake: LakeReader;
  readonly engine: LakeEngine;
  readonly metrics: GatewayMetrics;
  readonly kafka: KafkaClient;
  /** The in-process ingester (`ingest: true`), else null. */
  readonly ingester: Ingester | null;
  /** Subscriptions: tails, groups and subscribers (stats for tests and /metrics). */
  readonly live: LiveHub;
  readonly publisher: Publisher;
  stop(): Promise<void>;
}

export function createLogger(level = process.env.LAKEGATE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'lakegate' } });
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { catalog } = opts;
  const log = opts.logger ?? createLogger();
  const engine = await createLakeEngine({ lakePath: catalog.lake.path, threads: catalog.lake.threads || undefined, memoryLimit: catalog.lake.memoryLimit || undefined });
  const metrics = createMetrics();
  const kafka = createKafkaClient(catalog.kafka, log.child({ component: 'kafka' }));
  const ingester = opts.ingest ? createIngester({ catalog, engine, kafka, logger: log, registry: metrics.registry, queryable: true }) : null;
  // Bounded in time: `datasets` must answer from the lake even when Kafka is down.
  const topicOffsets = (topic: string) => withDeadline(kafka.recentTopicOffsets(topic), 2_000, () => new Error('no answer')).catch(() => null);
  const lake = createLakeReader(catalog, engine, { liveSegments: ingester ? (ds) => ingester.liveSegments(ds) : undefined, topicOffsets });
  const schema = await buildGatewaySchema(catalog);
  const formatError = createErrorFormatter(log);
  const rules = limitRules(catalog.server.limits);
  const production = catalog.server.production;
  const publisher = createPublisher(kafka, log.child({ component: 'publish' }));
  const makeContext = (requestId: string) => createContext(catalog, lake, requestId, publisher);
  const live = createLiveHub({ catalog, lake, kafka, logger: log, formatError, makeContext, registry: metrics.registry });
  const subs = catalog.subscriptions;

  const httpServer = http.createServer();
  const wss = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: MAX_PAYLOAD_BYTES,
    // No compression: the live hub writes plain text frames of its events itself (live/hub.ts).
    perMessageDeflate: false,
    // Browsers send Origin; a page from another site must not open a socket with the user's network position.
    verifyClient: (info: { origin: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      const ok = originAllowed(info.origin, info.req.headers.host, subs.allowedOrigins);
      if (!ok) log.warn({ origin: info.origin }, 'websocket refused: origin not allowed');
      done(ok, 403, 'origin not allowed');
    },
  });

  // Parsed and validated websocket documents by query text (least recently used first out).
  const validDocuments = new Map<string, DocumentNode>();
  // Websocket operations under way; shutdown waits for them (up to DRAIN_MS) before closing the sockets.
  let inFlight = 0;
  let draining = false;
  const wsServer = useServer<Record<string, unknown>, { requestId?: string }>(
    {
      schema,
      connectionInitWaitTimeout: subs.connectionInitTimeoutMs,
      // Subscriptions go to the live hub: shared executions, payloads written once per group, bounded queues.
      subscribe: (args) => {
        const live_ = (args.contextValue as GatewayContext).ws!;
        return live.subscribe({ args, socket: live_.socket, id: live_.id, query: live_.key });
      },
      onConnect: (ctx) => {
        if (draining) return false;
        ctx.extra.requestId = randomUUID();
        metrics.wsConnections.inc({ event: 'open' });
        return true;
      },
      onClose: () => {
        metrics.wsConnections.inc({ event: 'close' });
      },
      onComplete: () => {
        inFlight = Math.max(0, inFlight - 1);
      },
      onSubscribe: (ctx, id, payload) => {
        // Same parse bounds and validation rules (depth, cost, aliases) as HTTP. A valid document is kept per query
        // text: thousands of subscribers of one query share one syntax tree (memory) and skip parse + validate (CPU).
        let document = validDocuments.get(payload.query);
        if (document) {
          validDocuments.delete(payload.query);
          validDocuments.set(payload.query, document);
        } else {
          try {
            document = parse(payload.query, { maxTokens: MAX_TOKENS });
          } catch (e) {
            const err = e as GraphQLError;
            return [new GraphQLError(err.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const errors = validate(schema, document, [...specifiedRules, ...rules]);
          if (errors.length > 0) {
            return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: (e.extensions?.code as string | undefined) ?? 'GRAPHQL_VALIDATION_FAILED' } }));
          }
          validDocuments.set(payload.query, document);
          if (validDocuments.size > 1_000) validDocuments.delete(validDocuments.keys().next().value!);
        }
        const refused = variablesError(payload.variables) ?? costError(schema, document, payload.variables ?? undefined, payload.operationName, catalog.server.limits.maxCost);
        if (refused) return [refused];
        inFlight++;
        const requestId = (ctx.extra as { requestId?: string }).requestId ?? randomUUID();
        const contextValue: GatewayContext = makeContext(requestId);
        // Identical subscriptions (same text, operation and variables) share one execution per event.
        contextValue.ws = { socket: ctx.extra.socket, id, key: `${payload.operationName ?? ''}\u0000${payload.query}\u0000${JSON.stringify(payload.variables ?? {})}` };
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors?.length) return result;
        const rid = (args.contextValue as GatewayContext | undefined)?.requestId;
        return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, rid)) as unknown as GraphQLError[] };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e) as unknown as GraphQLError),
    },
    wss,
    subs.keepAliveMs,
  );

  const metricsPlugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async didResolveOperation(rc) {
          // Over HTTP a subscription would run once as a query with no event as root (an INTERNAL_SERVER_ERROR).
          if (rc.operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions are served over graphql-ws (graphql-transport-ws) at /graphql', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          const err = variablesError(rc.request.variables) ?? costError(schema, rc.document, rc.request.variables, rc.operationName, catalog.server.limits.maxCost);
          if (err) throw err;
        },
        async willSendResponse(rc) {
          const type = rc.operation?.operation ?? 'unknown';
          metrics.operations.inc({ type, outcome: rc.errors?.length ? 'error' : 'ok' });
          metrics.operationDuration.observe({ type }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };

  const apollo = new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: catalog.server.csrfPrevention,
    // The CLI owns signal handling (drain, then exit 0); Apollo's own handlers would re-raise the signal.
    stopOnTerminationSignals: false,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: production,
    validationRules: rules,
    parseOptions: { maxTokens: MAX_TOKENS },
    formatError: (formatted, error) => formatError(formatted, error),
    // Draining is done in stop() below, not by Apollo's drain plugin: that plugin destroys upgraded (websocket)
    // sockets as idle at once, which would cut off running websocket operations.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      metricsPlugin,
      publishFastPathPlugin(schema, directMutationFields(schema), metrics.publishFastPath),
    ],
  });
  await apollo.start();

  const graphiql = catalog.server.graphiql ? createGraphiqlHandler({ endpointPath: GRAPHQL_PATH, title: 'lakegate' }) : null;

  async function handleGraphql(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST', 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'method not allowed', extensions: { code: 'BAD_REQUEST' } }] }));
      return;
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const raw = await readBody(req, MAX_PAYLOAD_BYTES);
      if (raw === null) {
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `request body larger than ${MAX_PAYLOAD_BYTES} bytes`, extensions: { code: 'LIMIT_EXCEEDED' } }] }));
        return;
      }
      const ctype = headers.get('content-type') ?? '';
      if (/^application\/(graphql-response\+)?json\b/i.test(ctype) || ctype === '') {
        try {
          body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] }));
          return;
        }
      } else body = raw.toString('utf8');
    }
    const requestId = (typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,64}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : null) ?? randomUUID();
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: async () => makeContext(requestId),
    });
    const out: Record<string, string> = { 'x-request-id': requestId, vary: 'Accept' };
    for (const [k, v] of result.headers) out[k] = v;
    res.writeHead(result.status ?? 200, out);
    if (result.body.kind === 'complete') res.end(result.body.string);
    else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  async function readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    try {
      await fsp.access(catalog.lake.path);
      await engine.query('SELECT 1', [], { timeoutMs: 2_000 });
      checks.lake = 'ok';
    } catch (e) {
      // Say what is down, not where (no paths for clients); the log has the details.
      log.warn({ err: e }, 'readiness: lake check failed');
      checks.lake = 'down: the lake directory cannot be read';
    }
    // Kafka is reported always; it gates readiness only for roles that need it (in-process ingestion).
    const offs = await topicOffsets(catalog.datasets[0]!.topic);
    checks.kafka = offs ? 'ok' : 'down: no Kafka broker answered';
    const gating = Object.entries(checks).filter(([k]) => k !== 'kafka' || ingester);
    return { ready: gating.every(([, v]) => v === 'ok'), checks };
  }

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let route = 'other';
    res.on('finish', () => metrics.httpDuration.observe({ method: req.method ?? '', route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9));
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    (async () => {
      if (url.pathname === GRAPHQL_PATH || url.pathname.startsWith(`${GRAPHQL_PATH}/`)) {
        route = 'graphql';
        if (graphiql && graphiql(req, res)) {
          route = 'graphiql';
          return;
        }
        if (url.pathname !== GRAPHQL_PATH) return json(404, { error: 'not found' });
        return handleGraphql(req, res, url);
      }
      if (url.pathname === '/healthz') {
        route = 'healthz';
        return json(200, { status: 'ok' });
      }
      if (url.pathname === '/readyz') {
        route = 'readyz';
        const r = await readiness();
        return json(r.ready ? 200 : 503, r);
      }
      if (url.pathname === '/metrics') {
        route = 'metrics';
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
        return;
      }
      if (url.pathname === '/' && req.method === 'GET') {
        res.writeHead(302, { location: GRAPHQL_PATH }).end();
        return;
      }
      json(404, { error: 'not found' });
    })().catch((err) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) json(500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });

  const port = opts.port ?? catalog.server.port;
  const host = opts.host ?? catalog.server.host;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const addr = httpServer.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${addr.port}${GRAPHQL_PATH}`;
  log.info({ url }, 'lakegate is serving');
  if (ingester) {
    // The gateway answers from the lake while Kafka is away; ingestion starts when Kafka answers.
    const startIngest = async (): Promise<void> => {
      try {
        await ingester.start();
        log.info('ingestion running in-process');
      } catch (err) {
        if (stopping) return;
        log.warn({ err }, 'ingestion could not start yet (Kafka unreachable?); retrying in 5 s');
        await ingester.stop().catch(() => {});
        ingestRetry = setTimeout(() => void startIngest(), 5_000);
      }
    };
    void startIngest();
  }
  let ingestRetry: NodeJS.Timeout | null = null;

  let stopping: Promise<void> | null = null;
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    port: addr.port,
    schema,
    lake,
    engine,
    metrics,
    kafka,
    ingester,
    live,
    publisher,
    stop() {
      stopping ??= (async () => {
        // Unref: a drain deadline that is no longer awaited must not hold the process open after stop().
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
        // 1. No new connections or websocket operations; idle keep-alive sockets close now.
        draining = true;
        // Subscriptions never end by themselves: complete them (clients see `complete`), then close the tails.
        await live.close().catch((err) => log.warn({ err }, 'live streams did not close cleanly'));
        const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        // 2. Running websocket operations finish (bounded), then the sockets close with 1001 Going Away.
        const deadline = Date.now() + DRAIN_MS;
        while (inFlight > 0 && Date.now() < deadline) await sleep(20);
        await wsServer.dispose();
        // 3. In-flight HTTP requests finish (bounded), then whatever is left is cut.
        await Promise.race([httpClosed, sleep(Math.max(0, deadline - Date.now()))]);
        httpServer.closeAllConnections();
        await apollo.stop();
        if (ingestRetry) clearTimeout(ingestRetry);
        if (ingester) await ingester.stop().catch((err) => log.error({ err }, 'ingestion did not stop cleanly'));
        await publisher.close();
        await kafka.close();
        engine.close();
      })();
      return stopping;
    },
  };
}

/**
 * Websocket Origin check: no Origin (not a browser), the gateway's own host (GraphiQL), or a listed origin ("*": any).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Read a request body, or null if it is larger than `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else if (!over) chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

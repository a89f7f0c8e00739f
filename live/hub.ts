// Subscriptions: graphql-ws hands every subscribe here (its `subscribe` hook). Subscribers with the same document and
// variables form a group that shares one execution and one serialized payload per event; the payload is written to
// each subscriber's socket directly, with a bounded queue per connection. A subscription that starts in the past
// (EARLIEST, a timestamp or a cursor) first streams the lake, then reads Kafka from exactly where the lake ended
// (from the tail's ring, or a private catch-up read), and joins the shared group once it is level with the tail.
// Per event a group's payload comes from its compiled projection (live/project.ts, byte-identical to execute) when
// the selection allows it; groups with a top-level `eq` are reached through a per-tail index (live/route.ts); a
// connection's frames of one event-loop turn are written as one buffer (one syscall).
// Invariant: per partition, a subscriber receives offsets in order, each at most once, with no gap but the filter's;
// `_meta.cursor` of an event says exactly what the subscriber has had, so a resume repeats and loses nothing.

import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLFormattedError,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  execute,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  visit,
} from 'graphql';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { Catalog, Dataset } from '../config';
import { GatewayError, badInput } from '../errors';
import { openTopicStream, type KafkaClient, type TopicStream } from '../kafka';
import { type EventMeta, type LakeReader, type Record_, listDataFiles, normalizeWhere } from '../lake';
import { decodeStreamCursorInfo, encodeStreamCursor, posKey, splitPosKey, type Positions, type ReplayOrigin } from './cursor';
import { createEventDecoder, type LiveEvent } from './event';
import { compileWhere, type RowPredicate } from './filter';
import { compileProjection, type Projection } from './project';
import { RouteIndex, routeOf, type Route } from './route';
import { createTailManager, type Tail, type TailListener } from './tail';

/** Close code for a subscriber whose queue overflowed (documented in the README). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 4008;

export interface LiveHubOptions {
  catalog: Catalog;
  lake: LakeReader;
  kafka: KafkaClient;
  logger: Logger;
  /** Client-safe form of an error (masking, codes), as for every other response. */
  formatError: (formatted: GraphQLFormattedError, error: unknown, requestId?: string) => GraphQLFormattedError;
  /** A fresh resolver context for one execution. */
  makeContext: (requestId: string) => unknown;
  registry?: Registry;
}

export interface SubscribeRequest {
  args: ExecutionArgs;
  socket: WebSocket;
  /** graphql-ws subscription id. */
  id: string;
  /** Query text, operation name and raw variables: the sharing key. */
  query: string;
}

export interface LiveStats {
  tails: number;
  subscriptions: number;
  groups: number;
  connections: number;
}

export interface LiveHub {
  subscribe(req: SubscribeRequest): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
  stats(): LiveStats;
  /** End every subscription (complete) and close the tails. */
  close(): Promise<void>;
}

type Produce = () => string | Promise<string> | null;

/**
 * Runs payload productions in order; synchronous ones are emitted at once (the common case). An execution whose
 * selection reads the lake (a relation) is asynchronous; `onIdle` tells when the last one was emitted.
 */
class Sequencer<T> {
  private chain: Promise<void> | null = null;
  private depth = 0;
  /** Called when the last pending production has been emitted (a replay promotes itself then). */
  onIdle: (() => void) | null = null;
  constructor(
    private readonly emit: (payload: string, tag: T) => void,
    private readonly onError: (err: unknown) => void,
  ) {}
  get idle(): boolean {
    return this.depth === 0;
  }
  private readonly settled = () => {
    if (--this.depth === 0) this.onIdle?.();
  };
  push(produce: Produce, tag: T): void {
    if (this.depth === 0) {
      let r: string | Promise<string> | null;
      try {
        r = produce();
      } catch (e) {
        this.onError(e);
        return;
      }
      if (r === null) return;
      if (typeof r === 'string') {
        this.emit(r, tag);
        return;
      }
      this.depth++;
      this.chain = r.then(
        (s) => this.emit(s, tag),
        (e) => this.onError(e),
      ).finally(this.settled);
      return;
    }
    this.depth++;
    this.chain = this.chain!.then(async () => {
      try {
        const s = await produce();
        if (s !== null) this.emit(s, tag);
      } catch (e) {
        this.onError(e);
      }
    }).finally(this.settled);
  }
}

interface Conn {
  socket: WebSocket;
  pending: number;
  subs: number;
  cut: boolean;
  waiters: Array<() => void>;
  /** `n` messages counted in `pending` have been taken by the kernel. */
  sent: (n: number) => void;
  /** Messages of this event-loop turn not written yet (written together at its end, or before any other frame). */
  batch: Batch | null;
}

/** Bytes of a server-to-client (unmasked) frame header for a payload of `len` bytes (RFC 6455 §5.2). */
function frameHeaderBytes(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

/** Writes a final text frame of `msg` (`len` UTF-8 bytes) at `off`; returns the offset after it. */
function writeTextFrame(buf: Buffer, off: number, msg: string, len: number): number {
  buf[off++] = 0x81; // FIN, opcode 1 (text)
  if (len < 126) {
    buf[off++] = len;
  } else if (len < 65536) {
    buf[off++] = 126;
    buf.writeUInt16BE(len, off);
    off += 2;
  } else {
    buf[off++] = 127;
    buf.writeUInt32BE(Math.floor(len / 2 ** 32), off);
    buf.writeUInt32BE(len >>> 0, off + 4);
    off += 8;
  }
  return off + buf.write(msg, off, len, 'utf8');
}

interface Batch {
  msgs: string[];
  /** UTF-8 length of each message. */
  lens: number[];
  bytes: number;
}

interface Member {
  readonly conn: Conn;
  readonly id: string;
  /** `{"id":…,"type":"next","payload":` (made at the first event). */
  readonly prefix: string;
  readonly ds: Dataset;
  ended: boolean;
  /** The tail's event number when it joined its group: it gets only later events (none twice, even when it joins
   *  in the middle of a dispatch, where listeners added then would still be offered the current event). */
  joined: number;
  /** Key of the group it is a member of (left when it ends). */
  group: string | null;
  end(err?: unknown): void;
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ done: true, value: undefined }) as IteratorResult<ExecutionResult>;

interface Group {
  key: string;
  tail: Tail;
  members: Set<Member>;
  listener: TailListener;
  seq: Sequencer<number>;
  /** Its filter's top-level `eq`: the group is offered only events with that value (through its tail's router). */
  route: Route | null;
}

/** The groups of one tail that have a route: one tail listener offers each event to those with its `eq` value. */
interface Router {
  index: RouteIndex<Group>;
  listener: TailListener;
}

interface Spec {
  /** The document selects a field named `cursor` (encoding a cursor per event costs; most subscriptions skip it). */
  needsCursor: boolean;
  ds: Dataset;
  document: DocumentNode;
  operationName: string | null | undefined;
  variableValues: Record<string, unknown> | null | undefined;
  predicate: RowPredicate;
  whereNode: ReturnType<typeof normalizeWhere>;
  start: { kind: 'latest' } | { kind: 'earliest' } | { kind: 'timestamp'; ms: number } | { kind: 'cursor'; positions: Positions; replay: ReplayOrigin | null };
  key: string;
  /** The compiled fast path of the selection (plain fields and _meta), or null: graphql execute per event; compiled
   *  on first use (a subscriber joining an existing group never needs its own). */
  project: Projection | null | undefined;
}

export function createLiveHub(opts: LiveHubOptions): LiveHub {
  const { catalog, lake, kafka } = opts;
  const settings = catalog.subscriptions;
  const log = opts.logger.child({ component: 'live' });
  const conns = new WeakMap<WebSocket, Conn>();
  const groups = new Map<string, Group>();
  const members = new Set<Member>();
  let connCount = 0;
  let closing = false;

  const tails = createTailManager({
    kafka,
    logger: log,
    bufferEvents: settings.replayBufferEvents,
    bufferBytes: settings.replayBufferBytes,
    lingerMs: settings.tailLingerMs,
    encodeCursor: (topic, next) => encodeStreamCursor(new Map([...next].map(([p, o]) => [posKey(topic, p), o]))),
    onChange: () => gauges?.tails.set(tails.count()),
  });

  const gauges = opts.registry
    ? {
        tails: new Gauge({ name: 'lakegate_live_tails', help: 'Kafka tails open (one per subscribed dataset)', registers: [opts.registry] }),
        subs: new Gauge({ name: 'lakegate_live_subscriptions', help: 'Subscriptions being served', registers: [opts.registry] }),
        groups: new Gauge({ name: 'lakegate_live_groups', help: 'Shared executions (distinct document + variables)', registers: [opts.registry] }),
        deliveries: new Counter({ name: 'lakegate_live_deliveries_total', help: 'Events written to subscribers', registers: [opts.registry] }),
        slow: new Counter({ name: 'lakegate_live_slow_subscribers_total', help: `Connections closed (${SLOW_SUBSCRIBER_CLOSE_CODE}) because their queue overflowed`, registers: [opts.registry] }),
      }
    : null;
  const refreshGauges = () => {
    gauges?.subs.set(members.size);
    gauges?.groups.set(groups.size);
  };

  // ---- connections and writes ----------------------------------------------------------------------------------

  function connOf(socket: WebSocket): Conn {
    let c = conns.get(socket);
    if (!c) {
      const conn: Conn = {
        socket,
        pending: 0,
        subs: 0,
        cut: false,
        waiters: [],
        batch: null,
        sent: (n: number) => {
          conn.pending -= n;
          if (conn.waiters.length && conn.pending <= settings.queue.maxEvents / 4) {
            const w = conn.waiters;
            conn.waiters = [];
            for (const f of w) f();
          }
        },
      };
      c = conn;
      conns.set(socket, c);
      flushBefore(conn);
      connCount++;
      socket.once('close', () => {
        connCount--;
        const w = conn.waiters;
        conn.waiters = [];
        for (const f of w) f();
      });
    }
    return c;
  }

  // The frames for one connection of one event-loop turn (one Kafka batch) go out as one buffer in one write: the
  // first one queues the connection and a setImmediate writes every queued connection's frames. One syscall per frame
  // was the largest cost of a delivery, and ws' own send (two buffers per frame, cork, a callback each) the next. The
  // frames are plain text frames (perMessageDeflate is off: server/gateway.ts); any other frame of the connection
  // (graphql-ws' complete or error, a ping, a close) first writes what is waiting, so the order on the wire is the
  // order of the sends. A write completes asynchronously even when the kernel takes every byte at once (ws'
  // bufferedAmount counts the bytes until its callback), so what is still waiting is read from the handle: libuv's
  // writeQueueSize; only the frames whose bytes the kernel did not take count as queued.
  const waiting: Conn[] = [];
  const MAX_BATCH_MSGS = 256;
  const MAX_BATCH_BYTES = 1 << 20;
  const flushAll = () => {
    const cs = waiting.splice(0);
    for (const c of cs) flush(c);
  };
  type RawSocket = { write(b: Buffer, cb: (err?: Error | null) => void): boolean; _handle?: { writeQueueSize?: number } | null };
  type WsInternals = { _socket?: RawSocket; _sender?: { _state?: number; _queue?: unknown[] } };
  /** Bytes the kernel has not taken (libuv's queue); null when the socket does not tell. */
  const kernelBacklog = (raw: RawSocket | undefined): number | null => {
    const q = raw?._handle?.writeQueueSize;
    return typeof q === 'number' ? q : null;
  };
  /** The raw socket when frames can be written to it directly: ws' sender has nothing of its own waiting. */
  const directSocket = (conn: Conn): RawSocket | null => {
    const ws = conn.socket as unknown as WsInternals;
    const raw = ws._socket;
    const sender = ws._sender;
    if (!raw || typeof raw.write !== 'function' || !sender || sender._state !== 0 || (sender._queue?.length ?? 1) !== 0) return null;
    return raw;
  };
  /** Before any frame ws itself writes (graphql-ws' messages, pings, the close frame), write the waiting ones. */
  function flushBefore(conn: Conn): void {
    const ws = conn.socket as unknown as Record<'send' | 'ping' | 'pong' | 'close', (...a: unknown[]) => unknown>;
    for (const name of ['send', 'ping', 'pong', 'close'] as const) {
      const orig = ws[name]!;
      ws[name] = function (this: unknown, ...a: unknown[]) {
        if (conn.batch !== null) flush(conn);
        return orig.apply(this, a);
      };
    }
  }

  function flush(conn: Conn): void {
    const b = conn.batch;
    if (b === null) return;
    conn.batch = null;
    if (conn.cut || conn.socket.readyState !== 1) return; // closing: nothing more goes out
    const raw = directSocket(conn);
    if (raw === null) {
      for (const m of b.msgs) sendOne(conn, m);
      return;
    }
    const n = b.msgs.length;
    const buf = Buffer.allocUnsafe(b.bytes + 10 * n);
    let off = 0;
    for (let i = 0; i < n; i++) off = writeTextFrame(buf, off, b.msgs[i]!, b.lens[i]!);
    let queued = 0;
    raw.write(off === buf.length ? buf : buf.subarray(0, off), () => {
      if (queued) conn.sent(queued);
    });
    // As if written one by one: the messages whose bytes the kernel did not take (the last ones) are queued.
    const backlog = kernelBacklog(raw) ?? conn.socket.bufferedAmount;
    let left = backlog;
    for (let i = n - 1; i >= 0 && left > 0; i--) {
      queued++;
      left -= b.lens[i]! + frameHeaderBytes(b.lens[i]!);
    }
    conn.pending += queued;
    if (conn.pending > settings.queue.maxEvents || backlog > settings.queue.maxBytes) cutOff(conn);
  }

  /** ws' own send, one message: counted as queued while ws says bytes wait. */
  function sendOne(conn: Conn, msg: string): void {
    let queued = false;
    conn.socket.send(msg, () => {
      if (queued) conn.sent(1);
    });
    if (conn.socket.bufferedAmount > 0) {
      queued = true;
      conn.pending++;
    }
    if (conn.pending > settings.queue.maxEvents || conn.socket.bufferedAmount > settings.queue.maxBytes) cutOff(conn);
  }

  function write(conn: Conn, msg: string): void {
    if (conn.cut || conn.socket.readyState !== 1) return;
    // Only a message still waiting in user space (the kernel did not take it at once) counts as queued. A write
    // callback runs only after the current synchronous burst even when the kernel took the bytes at once, so counting
    // every send until its callback closed fast subscribers (4008) on any Kafka batch of more than maxEvents events
    // (tests/live/fanout.test.ts: "a burst larger than the queue").
    let b = conn.batch;
    if (b === null) {
      b = conn.batch = { msgs: [], lens: [], bytes: 0 };
      waiting.push(conn);
      if (waiting.length === 1) setImmediate(flushAll);
    }
    const len = Buffer.byteLength(msg);
    b.msgs.push(msg);
    b.lens.push(len);
    b.bytes += len;
    // Past the queue limit, judge at once (as unbatched); big batches go out as they fill.
    if (b.msgs.length >= MAX_BATCH_MSGS || b.bytes >= MAX_BATCH_BYTES || conn.pending + b.msgs.length > settings.queue.maxEvents) flush(conn);
  }

  function cutOff(conn: Conn): void {
    if (conn.cut) return;
    conn.cut = true;
    gauges?.slow.inc();
    log.warn({ pending: conn.pending, bufferedBytes: conn.socket.bufferedAmount }, 'closing a subscriber that does not keep up');
    conn.socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, `subscriber too slow: more than ${settings.queue.maxEvents} events or ${settings.queue.maxBytes} bytes waiting`);
    // A peer that reads nothing never answers the close handshake: free its buffers soon.
    setTimeout(() => conn.socket.terminate(), 2_000).unref();
  }

  /** Resolves when the connection's queue is low again (replays wait on it instead of overflowing). */
  function drained(conn: Conn): Promise<void> {
    if (conn.pending <= settings.queue.maxEvents / 4 || conn.cut || conn.socket.readyState !== 1) return Promise.resolve();
    return new Promise((r) => conn.waiters.push(r));
  }

  function sendTo(m: Member, payload: string): void {
    if (m.ended) return;
    write(m.conn, m.prefix + payload + '}');
    gauges?.deliveries.inc();
  }

  // ---- execution -----------------------------------------------------------------------------------------------

  let execCounter = 0;
  function serialize(res: ExecutionResult, rid: string): string {
    if (!res.errors?.length) return JSON.stringify({ data: res.data });
    return JSON.stringify({ data: res.data, errors: res.errors.map((e) => opts.formatError(e.toJSON(), e, rid)) });
  }
  function run(spec: Spec, schema: GraphQLSchema, root: Record_): string | Promise<string> {
    const rid = `live-${++execCounter}`;
    const res = execute({ schema, document: spec.document, rootValue: root, contextValue: opts.makeContext(rid), variableValues: spec.variableValues, operationName: spec.operationName });
    return res instanceof Promise ? res.then((r) => serialize(r, rid)) : serialize(res as ExecutionResult, rid);
  }
  const metaOf = (ev: LiveEvent, cursor: string) => ({ topic: ev.topic, partition: ev.partition, offset: ev.offset.toString(), timestamp: ev.timestamp, key: ev.key, cursor });
  /** The compiled fast path of a selection (plain fields and _meta), compiled on first use; null: execute. */
  const projectionOf = (spec: Spec, schema: GraphQLSchema): Projection | null =>
    spec.project === undefined ? (spec.project = compileProjection(schema, spec.document, spec.operationName)) : spec.project;
  /** One event's payload: the compiled projection when it can answer, else graphql execute (same bytes). `_meta` is
   *  made only for a selection that reads it (a live event's ISO timestamp is rendered on first read). */
  function produce(spec: Spec, schema: GraphQLSchema, row: Record<string, unknown>, meta: () => EventMeta): string | Promise<string> {
    const p = projectionOf(spec, schema);
    const s = p === null ? null : p(row, p.needsMeta ? (meta() as unknown as Record<string, unknown>) : null);
    // Object.assign, not `{ ...row, _meta }`: on Node 20 a spread followed by a property makes a new hidden class
    // per call (kafka/kafkajs-codecs.ts). Row keys are dataset fields, which never start with "_" (config/load.ts).
    return s ?? run(spec, schema, Object.assign({}, row, { _meta: meta() }));
  }

  // ---- shared groups -------------------------------------------------------------------------------------------

  // 100 subscribers each filtering their own customerId cost 100 predicate calls per event without it.
  const routers = new Map<Tail, Router>();
  function routerOf(tail: Tail): Router {
    let r = routers.get(tail);
    if (!r) {
      const index = new RouteIndex<Group>();
      const router: Router = {
        index,
        listener: {
          onEvent: (ev) => {
            if (ev.row !== null) index.match(ev.row, (g) => g.listener.onEvent(ev));
          },
          onTailError: (err) => {
            for (const g of index.items()) g.listener.onTailError(err);
          },
        },
      };
      r = router;
      routers.set(tail, r);
      tail.addListener(r.listener);
    }
    return r;
  }

  function joinGroup(m: Member, spec: Spec, schema: GraphQLSchema, tail: Tail): void {
    let g = groups.get(spec.key);
    if (!g) {
      const group: Group = {
        key: spec.key,
        tail,
        members: new Set(),
        route: routeOf(spec.whereNode),
        // A member gets the events taken from the tail while it was a member: not those whose execution was still
        // pending when it joined (a promoted replay had them from its own reading), so none twice.
        seq: new Sequencer<number>(
          (payload, n) => {
            for (const t of group.members) if (t.joined < n) sendTo(t, payload);
          },
          (err) => {
            log.error({ err }, 'a shared subscription execution failed');
            for (const t of [...group.members]) t.end(new GatewayError('INTERNAL_SERVER_ERROR', 'the subscription failed'));
          },
        ),
        listener: {
          onEvent: (ev) => {
            if (ev.row === null || !spec.predicate(ev.row)) return;
            const cursor = spec.needsCursor ? tail.cursor() : '';
            group.seq.push(() => produce(spec, schema, ev.row!, () => metaOf(ev, cursor)), tail.seq);
          },
          onTailError: (err) => {
            for (const t of [...group.members]) t.end(err);
          },
        },
      };
      g = group;
      groups.set(spec.key, g);
      if (group.route) routerOf(tail).index.add(group, group.route);
      else tail.addListener(g.listener);
    }
    m.joined = tail.seq;
    g.members.add(m);
    refreshGauges();
  }

  function leaveGroup(m: Member, key: string): void {
    const g = groups.get(key);
    if (!g || !g.members.delete(m)) return;
    if (g.members.size === 0) {
      if (g.route) {
        const r = routers.get(g.tail)!;
        r.index.delete(g);
        if (r.index.size === 0) {
          g.tail.removeListener(r.listener);
          routers.delete(g.tail);
        }
      } else g.tail.removeListener(g.listener);
      groups.delete(key);
    }
    refreshGauges();
  }

  // ---- one subscription ----------------------------------------------------------------------------------------

  function parse(req: SubscribeRequest): Spec {
    const { args } = req;
    const op = getOperationAST(args.document, args.operationName);
    if (!op || op.operation !== 'subscription') throw badInput('not a subscription operation');
    const sel = op.selectionSet.selections;
    if (sel.length !== 1 || sel[0]!.kind !== Kind.FIELD) throw badInput('a subscription selects exactly one dataset field (no fragments at the root)');
    const node = sel[0] as FieldNode;
    const ds = catalog.datasetMap.get(node.name.value);
    const fieldDef = args.schema.getSubscriptionType()?.getFields()[node.name.value];
    if (!ds || !fieldDef) throw badInput(`unknown subscription "${node.name.value}"`);
    const vars = getVariableValues(args.schema, op.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
    if (vars.errors) throw vars.errors[0]!;
    const a = getArgumentValues(fieldDef, node, vars.coerced) as { where?: Record<string, unknown> | null; from?: { position?: string | null; timestamp?: string | null; cursor?: string | null } | null };
    const whereNode = normalizeWhere(ds, a.where ?? null);
    const predicate = compileWhere(whereNode);
    const from = a.from ?? {};
    const set = (['position', 'timestamp', 'cursor'] as const).filter((k) => from[k] !== undefined && from[k] !== null);
    if (set.length > 1) throw badInput(`from: set one of position, timestamp or cursor (got ${set.join(', ')})`);
    let start: Spec['start'] = { kind: 'latest' };
    if (from.position === 'EARLIEST') start = { kind: 'earliest' };
    else if (from.timestamp) start = { kind: 'timestamp', ms: Date.parse(from.timestamp) };
    else if (from.cursor) {
      const { positions, replay } = decodeStreamCursorInfo(from.cursor);
      for (const k of positions.keys()) {
        const { topic } = splitPosKey(k);
        if (topic !== ds.topic && !topic.startsWith(`${ds.topic}.`)) throw badInput(`the cursor belongs to another stream (topic "${topic}")`);
      }
      start = { kind: 'cursor', positions, replay };
    }
    let needsCursor = false;
    visit(args.document, {
      Field(f) {
        if (f.name.value === 'cursor') needsCursor = true;
      },
    });
    return { ds, document: args.document, operationName: args.operationName, variableValues: args.variableValues as Record<string, unknown> | null, predicate, whereNode, start, key: req.query, needsCursor, project: undefined };
  }

  // One subscription, and the async iterator graphql-ws awaits: it never yields (payloads go to the socket directly)
  // and ends with the stream. Methods live on the prototype: an idle subscription holds no closures of its own.
  class LiveMember implements Member {
    ended = false;
    joined = 0;
    group: string | null = null;
    /** What to undo when it ends (a replay's listeners and reads), in order; then it leaves its group. */
    cleanups: Array<() => void> | null = null;
    private settle!: (r: IteratorResult<ExecutionResult>) => void;
    private reject!: (e: unknown) => void;
    private readonly pending: Promise<IteratorResult<ExecutionResult>>;
    private prefixMemo: string | null = null;
    constructor(
      readonly conn: Conn,
      readonly id: string,
      readonly ds: Dataset,
      private readonly tail: Tail,
    ) {
      this.pending = new Promise<IteratorResult<ExecutionResult>>((res, rej) => {
        this.settle = res;
        this.reject = rej;
      });
    }
    get prefix(): string {
      return (this.prefixMemo ??= `{"id":${JSON.stringify(this.id)},"type":"next","payload":`);
    }
    end(err?: unknown): void {
      if (this.ended) return;
      this.ended = true;
      members.delete(this);
      this.conn.subs--;
      const cs = this.cleanups;
      this.cleanups = null;
      if (cs) for (const c of cs.splice(0)) c();
      if (this.group !== null) leaveGroup(this, this.group);
      tails.release(this.tail);
      refreshGauges();
      if (err) this.reject(err);
      else this.settle(DONE);
    }
    next(): Promise<IteratorResult<ExecutionResult>> {
      return this.pending;
    }
    async return(): Promise<IteratorResult<ExecutionResult>> {
      this.end();
      return DONE;
    }
    async throw(): Promise<IteratorResult<ExecutionResult>> {
      this.end();
      return DONE;
    }
    [Symbol.asyncIterator]() {
      return this;
    }
    async [Symbol.asyncDispose](): Promise<void> {
      this.end();
    }
  }

  async function subscribe(req: SubscribeRequest): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    const fail = (e: unknown): ExecutionResult => ({ errors: [e instanceof GraphQLError ? e : new GraphQLError((e as Error).message, { originalError: e as Error })] });
    if (closing) return fail(new GatewayError('BROKER_UNAVAILABLE', 'the gateway is shutting down'));
    let spec: Spec;
    try {
      spec = parse(req);
    } catch (e) {
      return fail(e);
    }
    const conn = connOf(req.socket);
    if (conn.subs >= settings.maxPerConnection) {
      return fail(new GatewayError('LIMIT_EXCEEDED', `at most ${settings.maxPerConnection} subscriptions per connection`, { details: { max: settings.maxPerConnection } }));
    }
    conn.subs++;
    let tail: Tail;
    try {
      tail = await tails.acquire(spec.ds);
    } catch (e) {
      conn.subs--;
      return fail(e);
    }
    const schema = req.args.schema;

    const m = new LiveMember(conn, req.id, spec.ds, tail);
    members.add(m);
    refreshGauges();
    if (spec.start.kind === 'latest') {
      joinGroup(m, spec, schema, tail);
      m.group = spec.key;
    } else {
      m.cleanups = [];
      void replay(m, spec, schema, tail, m.cleanups).catch((err) => {
        if (!m.ended) {
          log.warn({ err }, 'a replay failed');
          m.end(err instanceof GatewayError ? err : new GatewayError('INTERNAL_SERVER_ERROR', 'the replay failed', { cause: err }));
        }
      });
    }
    return m as unknown as AsyncGenerator<ExecutionResult>;
  }

  // ---- history, then live --------------------------------------------------------------------------------------

  async function replay(m: Member, spec: Spec, schema: GraphQLSchema, tail: Tail, cleanups: Array<() => void>): Promise<void> {
    const { ds } = spec;
    // What this subscriber has had: (topic, partition) → next offset; its cursors encode exactly this.
    const had: Positions = new Map(spec.start.kind === 'cursor' ? spec.start.positions : []);
    // A replay's cursors say so (and from which timestamp): a resume then also reads the (topic, partition)s of the
    // lake the replay had not reached yet, e.g. a history topic's second partition. Without it, a resume from a cursor
    // taken inside the history lost every partition of other topics that the cursor did not name.
    const origin: ReplayOrigin | null =
      spec.start.kind === 'earliest' ? {} : spec.start.kind === 'timestamp' ? { sinceMs: spec.start.ms } : spec.start.kind === 'cursor' ? spec.start.replay : null;
    const cursorNow = () => encodeStreamCursor(had, origin ?? undefined);
    const seq = new Sequencer<null>(
      (payload) => sendTo(m, payload),
      (err) => m.end(new GatewayError('INTERNAL_SERVER_ERROR', 'the subscription failed', { cause: err })),
    );
    const sinceMs = origin?.sinceMs;

    // 1. The lake, oldest first.
    let from: Array<{ topic: string; partition: number; offset: bigint }> | undefined;
    if (spec.start.kind === 'cursor') {
      from = [...spec.start.positions].map(([k, offset]) => ({ ...splitPosKey(k), offset }));
      if (origin) {
        // The live topic's partitions not named are read whole by history(); those of other topics must be named.
        for (const f of await listDataFiles(catalog.lake.path, ds)) {
          if (f.topic !== ds.topic && !had.has(posKey(f.topic, f.partition))) {
            had.set(posKey(f.topic, f.partition), 0n);
            from.push({ topic: f.topic, partition: f.partition, offset: 0n });
          }
        }
      }
    }
    const ends = await lake.history(ds, { where: spec.whereNode, from, sinceMs }, async (rows) => {
      for (const r of rows) {
        if (m.ended) return;
        const meta = r._meta!;
        const k = posKey(meta.topic, meta.partition);
        const o = BigInt(meta.offset);
        if (o < (had.get(k) ?? 0n)) continue; // already had (a retried read)
        had.set(k, o + 1n);
        const m2: EventMeta = { topic: meta.topic, partition: meta.partition, offset: meta.offset, timestamp: meta.timestamp, key: meta.key, cursor: spec.needsCursor ? cursorNow() : '' };
        seq.push(() => produce(spec, schema, r, () => m2), null);
      }
      await drained(m.conn);
    });
    if (m.ended) return;

    // 2. Kafka from where the lake ends, per partition of the live topic (`had` holds the next offset of each).
    const nextOf = (p: number) => had.get(posKey(ds.topic, p)) ?? 0n;
    const setNext = (p: number, o: bigint) => had.set(posKey(ds.topic, p), o);
    const parts = new Set<number>([...tail.next.keys(), ...ends.keys()]);
    for (const p of parts) {
      const e = ends.get(p) ?? 0n;
      setNext(p, nextOf(p) > e ? nextOf(p) : e); // also names every partition in the cursors from now on
    }
    const mode = new Map<number, 'ring' | 'catchup'>();
    const offer = (ev: LiveEvent) => {
      if (ev.offset < nextOf(ev.partition)) return;
      setNext(ev.partition, ev.offset + 1n);
      if (ev.row === null || !spec.predicate(ev.row)) return;
      if (sinceMs !== undefined && ev.timestampMs < sinceMs) return;
      const cursor = spec.needsCursor ? cursorNow() : '';
      seq.push(() => produce(spec, schema, ev.row!, () => metaOf(ev, cursor)), null);
    };
    const levelWithTail = (p: number) => {
      // Everything below the tail's position is now either offered or absent (gaps of compacted topics).
      const t = tail.next.get(p) ?? 0n;
      if (nextOf(p) < t) setNext(p, t);
    };
    const toRing = (ps: number[]) => {
      const from = new Map(ps.map((p) => [p, nextOf(p)]));
      tail.replayFrom(from, offer);
      for (const p of ps) {
        levelWithTail(p);
        mode.set(p, 'ring');
      }
    };

    let catchup: TopicStream | null = null;
    let promoted = false;
    const tryPromote = () => {
      if (promoted || m.ended || catchup || !seq.idle) return;
      for (const [p, t] of tail.next) if (mode.get(p) !== 'ring' || nextOf(p) > t) return;
      promoted = true;
      tail.removeListener(listener);
      joinGroup(m, spec, schema, tail);
      m.group = spec.key;
    };
    seq.onIdle = tryPromote;
    const listener: TailListener = {
      onEvent: (ev) => {
        const md = mode.get(ev.partition);
        if (md === 'catchup') return;
        if (md === undefined) mode.set(ev.partition, 'ring'); // a partition that appeared after the switch
        offer(ev);
        tryPromote();
      },
      onTailError: (err) => m.end(err),
    };

    const behind: number[] = [];
    const inRing: number[] = [];
    for (const p of parts) (nextOf(p) >= tail.floor(p) ? inRing : behind).push(p);
    // Synchronously: the ring's events, then the live ones (no event can slip in between).
    toRing(inRing);
    tail.addListener(listener);
    cleanups.push(() => tail.removeListener(listener));
    for (const p of behind) mode.set(p, 'catchup');
    if (behind.length > 0) {
      // The lake ends before the ring starts (ingestion is behind): read the gap from Kafka with a private stream.
      log.info({ dataset: ds.name, partitions: behind }, 'replay: the lake ends before the live ring; catching up from Kafka');
      const decode = createEventDecoder(ds);
      const stream = await openTopicStream(kafka, {
        topic: ds.topic,
        start: new Map([...tail.next.keys()].map((p) => [p, nextOf(p)])),
        role: 'catchup',
        logger: log,
        onFatal: (err) => m.end(new GatewayError('BROKER_UNAVAILABLE', 'the catch-up read stopped', { cause: err })),
        onBatch: async (p, msgs) => {
          if (m.ended || mode.get(p) !== 'catchup') return;
          for (const msg of msgs) offer(decode(ds.topic, p, msg));
          if (nextOf(p) >= tail.floor(p)) {
            toRing([p]);
            if (![...mode.values()].includes('catchup')) {
              const s = catchup;
              catchup = null;
              void s?.stop();
              tryPromote();
            }
          }
          await drained(m.conn);
        },
      });
      if (m.ended || ![...mode.values()].includes('catchup')) void stream.stop();
      else {
        catchup = stream;
        cleanups.push(() => void stream.stop());
      }
    }
    tryPromote();
  }

  return {
    subscribe,
    stats() {
      return { tails: tails.count(), subscriptions: members.size, groups: groups.size, connections: connCount };
    },
    async close() {
      closing = true;
      for (const m of [...members]) m.end();
      await tails.close();
    },
  };
}

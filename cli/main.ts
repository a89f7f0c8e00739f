#!/usr/bin/env node
// The `lakegate` command: serve, ingest, compact, dev, check. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config.
// Config errors print the file, the path inside it and the problem, one per line.

import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Catalog } from '../config';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { compactDataset, createLakeEngine, ensureSampleLake } from '../lake';
import { createKafkaClient } from '../kafka';
import { installKafkajsCodecs } from '../kafka/kafkajs-codecs';
import { createIngester } from '../ingestion';
import { buildGatewaySchema, printGatewaySchema } from '../schema';
import { createLogger, startGateway } from '../server';
import { startDevCluster } from '../tools/dev-cluster';
import { startDemoGenerator } from '../tools/demo-generator';

const USAGE = `Usage: lakegate <command> [--config lakegate.yaml]

Commands:
  serve     run the GraphQL gateway over the lake (--ingest: also ingest Kafka in-process)
  ingest    run an ingestion worker only (run N of them to scale out: they share one consumer group)
  compact   merge small lake files toward the target size, then exit
  dev       everything on an embedded dev Kafka cluster: demo events, ingestion, gateway, sample history
  check     validate the config and print the GraphQL schema

Options:
  --config, -c FILE   config file (default: lakegate.yaml)
  --port, -p PORT     listen port (overrides config and LAKEGATE_PORT)
  --ingest            with serve: run ingestion in the gateway process (records queryable within a second)
  --help, -h          this help
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c', default: 'lakegate.yaml' },
        port: { type: 'string', short: 'p' },
        ingest: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`lakegate: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (positionals.length > 1) {
    process.stderr.write(`lakegate: unexpected argument "${positionals[1]}"\n\n${USAGE}`);
    return 2;
  }
  let catalog: Catalog;
  try {
    catalog = loadConfig(values.config!);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`lakegate: invalid config\n${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`lakegate: --port "${values.port}" is not a port number\n`);
      return 2;
    }
  }

  switch (command) {
    case 'check': {
      const schema = await buildGatewaySchema(catalog);
      process.stdout.write(printGatewaySchema(schema));
      process.stderr.write(`${catalog.file}: ok (${catalog.datasets.length} datasets)\n`);
      return 0;
    }
    case 'serve': {
      const log = createLogger();
      useFastKafkaCodecs(log);
      const gateway = await startGateway({ catalog, logger: log, port, ingest: values.ingest });
      process.stdout.write(`\nlakegate is up: GraphiQL at ${gateway.url}  (Ctrl-C to stop)\n\n`);
      await untilSignal(() => gateway.stop(), log);
      return 0;
    }
    case 'ingest': {
      const log = createLogger();
      useFastKafkaCodecs(log);
      // An ingest worker's DuckDB only converts staging files into data files (a few commits at once, each a task of
      // its own) and compacts; it answers no query. One thread, unless lake.threads says otherwise: DuckDB's default
      // of one per core only competes with the decode workers (bench/ingest.bench.ts: 5–8% less CPU per event).
      const engine = await createLakeEngine({ lakePath: catalog.lake.path, threads: catalog.lake.threads || 1, memoryLimit: catalog.lake.memoryLimit || '1GB' });
      const kafka = createKafkaClient(catalog.kafka, log.child({ component: 'kafka' }));
      const ingester = createIngester({
        catalog, engine, kafka, logger: log,
        onFatal: (err) => {
          log.fatal({ err }, 'the ingestion consumer stopped and will not restart; exiting so a supervisor restarts the worker');
          process.exit(1);
        },
      });
      await ingester.start();
      log.info({ group: catalog.ingest.groupId, topics: catalog.datasets.map((d) => d.topic) }, 'ingestion worker running');
      await untilSignal(async () => {
        await ingester.stop();
        await kafka.close();
        engine.close();
      }, log);
      return 0;
    }
    case 'compact': {
      const engine = await createLakeEngine({ lakePath: catalog.lake.path });
      try {
        const c = catalog.ingest.compaction;
        for (const ds of catalog.datasets) {
          const r = await compactDataset(engine, ds, { targetBytes: c.targetBytes, minFiles: c.minFiles, rowGroupSize: catalog.ingest.rowGroupSize });
          process.stdout.write(`${ds.name}: merged ${r.merged} files into ${r.written}, removed ${r.removedCovered} covered and ${r.removedTmp} stale temporary files\n`);
        }
      } finally {
        engine.close();
      }
      return 0;
    }
    case 'dev': {
      const log = createLogger();
      useFastKafkaCodecs(log);
      return runDev(catalog, log, port);
    }
    default:
      process.stderr.write(`lakegate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

/**
 * For a long-running command, before it creates a Kafka client: kafkajs' record batch decoder and produce encoder are
 * replaced by lakegate's faster equivalents in this process (kafka/kafkajs-codecs.ts).
 */
function useFastKafkaCodecs(log: ReturnType<typeof createLogger>): void {
  const codecs = installKafkajsCodecs();
  log.debug({ installed: codecs.ok }, codecs.reason);
}

/** `lakegate dev`: a dev Kafka cluster, sample history, demo events, in-process ingestion and the gateway. */
async function runDev(catalog: Catalog, log: ReturnType<typeof createLogger>, port: number | undefined): Promise<number> {
  const topics: Record<string, number> = {};
  for (const ds of catalog.datasets) {
    topics[ds.topic] = ds.name === 'orders' ? 4 : 1;
    topics[ds.dlqTopic] = 1;
  }
  const dc = await startDevCluster({ brokers: 3, topics });
  log.info({ bootstrap: dc.bootstrap }, 'dev Kafka cluster (librdkafka mock) started');
  const devCatalog: Catalog = { ...catalog, kafka: { ...catalog.kafka, brokers: dc.brokers } };
  const engine = await createLakeEngine({ lakePath: catalog.lake.path });
  try {
    await ensureSampleLake(devCatalog, engine, { log: (m) => log.info(m) });
  } finally {
    engine.close();
  }
  // The dev cluster is new on every run, its offsets start at 0 again: files ingested from an earlier run's cluster
  // would tell ingestion to resume past them. Move them out of the lake (into a hidden folder, kept).
  const archived = await archiveDevTopics(devCatalog);
  if (archived > 0) log.info({ files: archived }, 'moved files ingested from an earlier dev cluster to _dev-archive/');
  const gateway = await startGateway({ catalog: devCatalog, logger: log, port, ingest: true });
  const demo = await startDemoGenerator(gateway.kafka, devCatalog, { log: (m) => log.warn(m) });
  process.stdout.write(
    `\nlakegate dev is up: GraphiQL at ${gateway.url}  (Ctrl-C to stop)\n` +
      `  Kafka (dev cluster): ${dc.bootstrap}   demo events flow into: ${devCatalog.datasets.map((d) => d.topic).join(', ')}\n\n`,
  );
  await untilSignal(async () => {
    await demo?.stop();
    await gateway.stop();
    await dc.stop();
  }, log);
  return 0;
}

async function archiveDevTopics(catalog: Catalog): Promise<number> {
  let moved = 0;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const ds of catalog.datasets) {
    const root = path.join(catalog.lake.path, ds.name);
    const dest = path.join(catalog.lake.path, '_dev-archive', stamp, ds.name);
    const walk = async (dir: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && !e.name.startsWith('.') && e.name !== '_tmp') {
          await walk(full);
          continue;
        }
        const isClaim = path.basename(dir) === '_claims';
        if (!e.isFile() || !(e.name.startsWith(`${ds.topic}+`) && (isClaim || e.name.endsWith('.parquet')))) continue;
        const to = path.join(dest, path.relative(root, full));
        await fsp.mkdir(path.dirname(to), { recursive: true });
        await fsp.rename(full, to);
        moved++;
      }
    };
    await walk(root);
  }
  return moved;
}

/** How long a stop may take before the process exits anyway (draining websocket operations takes up to 10 s). */
const STOP_LIMIT_MS = 30_000;

function untilSignal(stopAll: () => Promise<void>, log: ReturnType<typeof createLogger>): Promise<void> {
  return new Promise((resolve) => {
    let once = false;
    const stop = (signal: string) => {
      if (once) {
        log.warn('second signal: exiting now');
        process.exit(130);
      }
      once = true;
      log.info({ signal }, 'draining and stopping');
      // Bounded: a client library that never finishes its own stop must not keep the process up forever.
      setTimeout(() => {
        log.error(`not stopped within ${STOP_LIMIT_MS / 1000} s: exiting`);
        process.exit(1);
      }, STOP_LIMIT_MS).unref();
      stopAll().then(resolve, (err) => {
        log.error({ err }, 'stop failed');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`lakegate: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);

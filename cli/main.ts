#!/usr/bin/env node
// The `lakegate` command: serve, dev, check. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config.
// Config errors print the file, the path inside it and the problem, one per line.

import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Catalog } from '../config';
import { createLakeEngine, ensureSampleLake } from '../lake';
import { buildGatewaySchema, printGatewaySchema } from '../schema';
import { createLogger, startGateway, type Gateway } from '../server';

const USAGE = `Usage: lakegate <command> [--config lakegate.yaml]

Commands:
  serve     run the GraphQL gateway over the lake
  dev       like serve, on the embedded defaults: creates a sample lake on first run
  check     validate the config and print the GraphQL schema

Options:
  --config, -c FILE   config file (default: lakegate.yaml)
  --port, -p PORT     listen port (overrides config and LAKEGATE_PORT)
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
    case 'serve':
    case 'dev': {
      const log = createLogger();
      if (command === 'dev') {
        const engine = await createLakeEngine({ lakePath: catalog.lake.path });
        try {
          await ensureSampleLake(catalog, engine, { log: (m) => log.info(m) });
        } finally {
          engine.close();
        }
      }
      const gateway = await startGateway({ catalog, logger: log, port });
      process.stdout.write(`\nlakegate is up: GraphiQL at ${gateway.url}  (Ctrl-C to stop)\n\n`);
      await untilSignal(gateway, log);
      return 0;
    }
    default:
      process.stderr.write(`lakegate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function untilSignal(gateway: Gateway, log: ReturnType<typeof createLogger>): Promise<void> {
  return new Promise((resolve) => {
    let once = false;
    const stop = (signal: string) => {
      if (once) {
        log.warn('second signal: exiting now');
        process.exit(130);
      }
      once = true;
      log.info({ signal }, 'draining and stopping');
      gateway.stop().then(resolve, (err) => {
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

// The embedded DuckDB instance: locked down to the lake directory, UTC, one short-lived connection per query.
// Invariant: errors leaving this module never carry SQL text or file paths in their message.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, listValue, type DuckDBConnection, type DuckDBValue, type DuckDBType } from '@duckdb/node-api';
import { GatewayError } from '../errors';
import type { ParamValue } from './sql';

export interface EngineOptions {
  lakePath: string;
  threads?: number;
  memoryLimit?: string;
  /** Extra directories DuckDB may read or write (e.g. a scratch dir for ingestion). */
  extraDirectories?: string[];
}

export type Row = Record<string, unknown>;

export interface QueryResult {
  rows: Row[];
  columns: string[];
}

export interface LakeEngine {
  readonly lakePath: string;
  /** Run one read query on its own connection; cancelled (QUERY_TIMEOUT) after timeoutMs. */
  query(text: string, values: ParamValue[], opts?: { timeoutMs?: number }): Promise<QueryResult>;
  /** Statements with side effects inside the lake (writing Parquet); no timeout. */
  exec(text: string, values?: ParamValue[]): Promise<void>;
  /** Run one read query and hand its rows over chunk by chunk (no timeout: long replays are legitimate). */
  stream(text: string, values: ParamValue[], onRows: (rows: Row[]) => Promise<void> | void): Promise<void>;
  /** A raw connection for lake/ internals (e.g. creating the views over staging files); closed after fn. */
  withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T> | T): Promise<T>;
  close(): void;
}

export async function createLakeEngine(opts: EngineOptions): Promise<LakeEngine> {
  const lakePath = path.resolve(opts.lakePath);
  mkdirSync(lakePath, { recursive: true });
  const settings: Record<string, string> = {};
  if (opts.threads) settings.threads = String(opts.threads);
  if (opts.memoryLimit) settings.memory_limit = opts.memoryLimit;
  const instance = await DuckDBInstance.create(':memory:', settings);
  const setup = await instance.connect();
  try {
    const dirs = [lakePath, ...(opts.extraDirectories ?? []).map((d) => path.resolve(d))].map((d) => d + path.sep);
    await setup.run(`SET allowed_directories = [${dirs.map((d) => `'${d.replace(/'/g, "''")}'`).join(', ')}]`);
    await setup.run(`SET enable_external_access = false`);
    await setup.run(`SET autoinstall_known_extensions = false`);
    await setup.run(`SET autoload_known_extensions = false`);
    await setup.run(`SET TimeZone = 'UTC'`);
    // Footers of immutable lake files are read once, not per query (DuckDB re-reads a file whose mtime changed).
    await setup.run(`SET parquet_metadata_cache = true`);
    await setup.run(`SET lock_configuration = true`);
  } finally {
    setup.closeSync();
  }

  const bind = (values: ParamValue[]): { vals: DuckDBValue[]; types: DuckDBType[] } => ({
    vals: values.map((v) => (Array.isArray(v) ? listValue(v) : v)),
    types: values.map((v) => (Array.isArray(v) ? LIST(VARCHAR) : VARCHAR)),
  });

  return {
    lakePath,
    async query(text, values, qopts = {}) {
      const conn = await instance.connect();
      let timedOut = false;
      let repeat: NodeJS.Timeout | undefined;
      // An interrupt that lands before DuckDB starts executing is lost, so keep interrupting until the query ends.
      const timer = qopts.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            conn.interrupt();
            repeat = setInterval(() => conn.interrupt(), 5);
          }, qopts.timeoutMs)
        : undefined;
      try {
        const { vals, types } = bind(values);
        const reader = await conn.runAndReadAll(text, vals, types);
        if (timedOut) throw new Error('interrupted');
        return { rows: reader.getRowObjectsJson() as Row[], columns: reader.columnNames() };
      } catch (cause) {
        if (timedOut) throw new GatewayError('QUERY_TIMEOUT', `the lake query took longer than ${qopts.timeoutMs} ms and was cancelled`, { cause });
        throw classify(cause);
      } finally {
        if (timer) clearTimeout(timer);
        if (repeat) clearInterval(repeat);
        conn.closeSync();
      }
    },
    async exec(text, values = []) {
      const conn = await instance.connect();
      try {
        const { vals, types } = bind(values);
        await conn.run(text, vals, types);
      } catch (cause) {
        throw classify(cause);
      } finally {
        conn.closeSync();
      }
    },
    async stream(text, values, onRows) {
      const conn = await instance.connect();
      try {
        const { vals, types } = bind(values);
        const result = await conn.stream(text, vals, types);
        for await (const rows of result.yieldRowObjectJson()) await onRows(rows as Row[]);
      } catch (cause) {
        throw classify(cause);
      } finally {
        conn.closeSync();
      }
    },
    async withConnection(fn) {
      const conn = await instance.connect();
      try {
        return await fn(conn);
      } finally {
        conn.closeSync();
      }
    },
    close() {
      instance.closeSync();
    },
  };
}

/** Map a DuckDB error to a client-safe one; the original stays in `cause` for the logs. */
function classify(cause: unknown): GatewayError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  if (/^(Conversion|Invalid Input) Error/.test(msg)) {
    // A value the client sent that does not convert to the column type (e.g. "abc" as a timestamp).
    return new GatewayError('BAD_USER_INPUT', msg.startsWith('Conversion') ? 'a value does not convert to the field type' : 'invalid input', { cause });
  }
  if (/Out of Memory Error/.test(msg)) return new GatewayError('LAKE_UNAVAILABLE', 'the lake query ran out of memory', { cause });
  if (/IO Error|No files found|Cannot open file/i.test(msg)) return new GatewayError('LAKE_UNAVAILABLE', 'the lake could not be read', { cause });
  return new GatewayError('INTERNAL_SERVER_ERROR', 'the lake query failed', { cause });
}

// The `lakegate` command as a user runs it: a real child process of dist/cli/main.js.
// check prints the SDL (exit 0), bad config/usage exit 2 naming the problem, serve answers queries and exits 0 on SIGTERM.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { createTestLake, gqlData, type TestLake } from '../helpers/lake-fixture';

const MAIN = path.resolve(__dirname, '../../cli/main.js');
const EXAMPLE = path.resolve(__dirname, '../../../lakegate.yaml');

let lake: TestLake;
before(async () => {
  lake = await createTestLake();
});
after(async () => {
  await lake?.dispose();
});

/** The environment without any LAKEGATE_* override from the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LAKEGATE_') && k !== 'NODE_ENV') env[k] = v;
  return { ...env, LAKEGATE_LOG_LEVEL: 'warn', ...extra };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env = cleanEnv(), timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lakegate ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('check: exit 0, stdout is the SDL of the configured datasets', async () => {
  const r = await run(['check', '--config', lake.configFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^type Order \{$/m);
  assert.match(r.stderr, new RegExp(`${lake.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok \\(2 datasets\\)`));
  // The SDL is a valid schema whose types carry exactly the configured fields.
  const schema = buildSchema(r.stdout);
  const order = schema.getType('Order') as GraphQLObjectType;
  const fields = lake.catalog.datasetMap.get('orders')!.fields.map((f) => f.name);
  assert.deepEqual(Object.keys(order.getFields()).sort(), [...fields, 'customer', '_meta'].sort());
  assert.equal(String(order.getFields().amount!.type), 'Float!');
  assert.equal(String(order.getFields().total!.type), 'BigInt');
  assert.equal(String(order.getFields().createdAt!.type), 'DateTime!');
  const query = schema.getQueryType()!.getFields();
  for (const f of ['orders', 'ordersConnection', 'ordersAggregate', 'customers', 'datasets']) assert.ok(query[f], `Query.${f}`);
  assert.ok(schema.getType('Customer'));
});

test('check: the example lakegate.yaml passes too', async () => {
  const r = await run(['check', '-c', EXAMPLE]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^type Order \{$/m);
  assert.match(r.stdout, /^type Customer \{$/m);
});

test('a bad config exits 2 and stderr names the file and the path inside it', async () => {
  const file = path.join(lake.dir, 'bad.yaml');
  const text = readFileSync(lake.configFile, 'utf8').replace(/amount: +\{ type: float,/, 'amount: { type: money,');
  assert.ok(text.includes('type: money'));
  writeFileSync(file, text);
  const runs = await Promise.all(['check', 'serve'].map(async (cmd) => [cmd, await run([cmd, '--config', file])] as const));
  for (const [cmd, r] of runs) {
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`${file}: datasets.orders.fields.amount.type: must be one of`), r.stderr);
    assert.equal(r.stdout, '', `${cmd}: nothing on stdout`);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
  const missing = path.join(lake.dir, 'nope.yaml');
  const m = await run(['check', '--config', missing]);
  assert.equal(m.code, 2, m.stderr);
  assert.ok(m.stderr.includes(missing), m.stderr);
});

test('unknown command, unknown option, bad port, extra argument: exit 2 with usage', async () => {
  const [u, o, p, x, h] = await Promise.all([
    run(['frobnicate', '--config', lake.configFile]),
    run(['check', '--frob']),
    run(['serve', '--config', lake.configFile, '--port', 'eighty']),
    run(['check', 'extra', '--config', lake.configFile]),
    run(['--help']),
  ]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command "frobnicate"/);
  assert.match(u.stderr, /Usage: lakegate <command>/);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /Usage:/);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /--port "eighty" is not a port number/);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /unexpected argument "extra"/);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: lakegate <command>/);
});

test(
  'check: a minimal config (datasets only) is valid',
  async () => {
    const file = path.join(lake.dir, 'minimal.yaml');
    writeFileSync(file, 'datasets:\n  events:\n    fields:\n      id: { type: string }\n');
    const r = await run(['check', '--config', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^type Events \{$/m);
  },
);

function waitForUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "GraphiQL at" line within ${timeoutMs} ms; stdout: ${out}`)), timeoutMs);
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /GraphiQL at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}; stdout: ${out}`)));
  });
}

function startServe(): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr: () => string } {
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', lake.configFile, '--port', '0'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

test('serve --port 0: starts on a free port and answers like SQL', async () => {
  const { child } = startServe();
  try {
    const url = await waitForUrl(child, 20_000);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    assert.notEqual(new URL(url).port, '4000');
    const data = await gqlData(url, '{ orders(limit: 5, orderBy: [{amount: DESC}, {id: ASC}]) { id amount } ordersAggregate { count } }');
    const expected = await lake.sql(`SELECT id, amount FROM ${lake.src('orders')} ORDER BY amount DESC, id LIMIT 5`);
    assert.deepEqual(data.orders, expected.map((r) => ({ id: r.id, amount: Number(r.amount) })));
    const [{ n }] = (await lake.sql(`SELECT count(*) AS n FROM ${lake.src('orders')}`)) as Array<{ n: unknown }>;
    assert.equal(data.ordersAggregate[0].count, String(n));
    assert.equal((await fetch(url.replace(/\/graphql$/, '/healthz'))).status, 200);
  } finally {
    killIfRunning(child);
  }
});

test(
  'serve exits 0 on SIGTERM and on SIGINT, and frees the port',
  async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const { child, exited, stderr } = startServe();
      try {
        const url = await waitForUrl(child, 20_000);
        assert.equal((await gqlData(url, '{ __typename }')).__typename, 'Query');
        child.kill(sig);
        const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const { code, signal } = await exited;
        clearTimeout(timeout);
        assert.equal(signal, null, `${sig}: killed by ${signal}; stderr: ${stderr()}`);
        assert.equal(code, 0, stderr());
        await assert.rejects(fetch(url.replace(/\/graphql$/, '/healthz')), 'the port is closed after exit');
      } finally {
        killIfRunning(child);
      }
    }
  },
);

test('dev: one command starts the dev cluster, demo events flow into the lake and are queryable; kcat reads the same event', { timeout: 150_000 }, async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-dev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [MAIN, 'dev', '--config', EXAMPLE, '--port', '0'], {
    env: cleanEnv({ LAKEGATE_LAKE_PATH: path.join(dir, 'lake') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  let stdout = '';
  child.stdout!.on('data', (c) => (stdout += c));
  t.after(() => killIfRunning(child));
  const url = await waitForUrl(child, 120_000);
  const bootstrap = /Kafka \(dev cluster\): (\S+)/.exec(stdout)?.[1];
  assert.ok(bootstrap, stdout);
  const started = Date.now();
  let live: any = null;
  while (!live && Date.now() - started < 30_000) {
    const d = await gqlData(url, `{ orders(where: {id: {startsWith: "ord_live_"}}, orderBy: [{createdAt: DESC}], limit: 1) { id createdAt _meta { topic partition offset } } }`);
    live = d.orders[0] ?? null;
    if (!live) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(live, `no live order became queryable; stderr: ${stderr.slice(-2000)}`);
  assert.equal(live._meta.topic, 'orders');
  assert.ok(Math.abs(Date.parse(live.createdAt) - Date.now()) < 60_000, live.createdAt);
  // An independent client reads the same record at the same partition and offset.
  const run = promisify(execFile);
  const { stdout: fromKcat } = await run('kcat', ['-C', '-b', bootstrap!, '-t', 'orders', '-p', String(live._meta.partition), '-o', String(live._meta.offset), '-c', '1', '-e', '-q']);
  assert.equal(JSON.parse(fromKcat.trim()).id, live.id);
  // The sample history is there too, under its own topic name.
  const info = await gqlData(url, `{ datasets { name rows } h: orders(where: {id: {startsWith: "ord_0"}}, limit: 1) { _meta { topic } } }`);
  assert.equal(info.h[0]._meta.topic, 'orders.history');
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0, stderr.slice(-2000));
});

// GraphiQL served by the gateway itself, driven in real headless chromium: every asset local (no request leaves
// 127.0.0.1), a query typed into the IDE answers like direct SQL, and the page logs no console errors.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { collectConsoleErrors, collectOffHostRequests, launchChromium, runInGraphiql, type OffHostRequest } from '../helpers/browser';
import { type TestLake, useTestGateway } from '../helpers/lake-fixture';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `chromium not installed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

const fx = useTestGateway();

test('GET /graphql with Accept: text/html serves GraphiQL from local assets; JSON clients still get GraphQL', async () => {
  const res = await fetch(fx.gw.url, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  assert.match(html, /<div id="graphiql">/);
  const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
  assert.ok(srcs.length >= 5, html);
  for (const u of srcs) {
    assert.ok(!/^(https?:)?\/\//.test(u), `asset not local: ${u}`);
    const abs = new URL(u.replace(/&amp;/g, '&'), fx.gw.url);
    assert.equal(abs.host, new URL(fx.gw.url).host);
    const a = await fetch(abs);
    assert.equal(a.status, 200, `${abs}`);
    assert.ok((await a.arrayBuffer()).byteLength > 0);
  }
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self' 'nonce-/);
  // Same URL, JSON client: GraphQL, not HTML.
  const json = await fetch(`${fx.gw.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
  assert.match(json.headers.get('content-type') ?? '', /application\/(graphql-response\+)?json/);
  assert.deepEqual(await json.json(), { data: { __typename: 'Query' } });
});

test('in headless chromium: loads with no off-host request, runs a query, shows the SQL answer, no console errors', { skip }, async () => {
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(CHROMIUM);
    const page: Page = await browser.newPage();
    const offHost: OffHostRequest[] = collectOffHostRequests(page, '127.0.0.1');
    const consoleErrors = collectConsoleErrors(page);
    const seen: string[] = [];
    page.on('request', (r) => seen.push(r.url()));

    const text = await runInGraphiql(page, fx.base, '{ orders(limit: 3, orderBy: [{id: ASC}]) { id amount } }');
    const shown = JSON.parse(text) as { data: { orders: Array<{ id: string; amount: number }> } };
    const expected = await fx.lake.sql(`SELECT id, amount FROM ${fx.lake.src('orders')} ORDER BY id LIMIT 3`);
    assert.equal(expected.length, 3);
    assert.deepEqual(shown.data.orders.map((o) => o.id), expected.map((r) => r.id));
    assert.deepEqual(shown.data.orders.map((o) => o.amount), expected.map((r) => Number(r.amount)));

    // A second operation in the same page, with variables and a hostile value, through the same local endpoint.
    const v = `it's "quoted"; DROP TABLE x; --`;
    const text2 = await runInGraphiql(page, fx.base, 'query($v: String) { orders(where: {note: {eq: $v}}, limit: 2, orderBy: [{id: DESC}]) { id note } }', { v }, { reuse: true });
    const shown2 = JSON.parse(text2) as { data: { orders: Array<{ id: string; note: string }> } };
    const expected2 = await fx.lake.sql(`SELECT id, note FROM ${fx.lake.src('orders')} WHERE note = ? ORDER BY id DESC LIMIT 2`, [v]);
    assert.deepEqual(shown2.data.orders, expected2.map((r) => ({ id: r.id, note: r.note })));

    assert.deepEqual(offHost, [], `requests left 127.0.0.1: ${JSON.stringify(offHost)}`);
    assert.ok(seen.some((u) => u.includes('/graphql/graphiql-assets/graphiql.min.js')), 'the page loaded the local GraphiQL bundle');
    assert.ok(seen.every((u) => u.startsWith(fx.base) || u.startsWith('data:')), JSON.stringify(seen));
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser?.close();
  }
});

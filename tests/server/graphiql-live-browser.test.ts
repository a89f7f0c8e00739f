// GraphiQL in headless chromium, live: a user subscribes with a filter and sees live events, replays yesterday and
// keeps going live, and publishes an event from a second tab and watches it arrive. Oracles: the mutation's own
// PublishResult (partition/offset), the producer's acks for yesterday's events, and a kafkajs read of the topic.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startGateway } from '../../server';
import { collectConsoleErrors, collectOffHostRequests, launchChromium, runInGraphiql, stopGraphiql } from '../helpers/browser';
import { buildDevCluster, createKafkaLake, orderEvent, quietLogger, trackedProducer, waitFor } from '../helpers/kafka-fixture';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `chromium not installed at ${CHROMIUM}`;

before(buildDevCluster);

/** Every payload GraphiQL shows while a subscription runs (it shows the latest one), sampled until `done`. */
function watchPane(page: Page): { seen: Set<string>; stop: () => Promise<void> } {
  const seen = new Set<string>();
  let on = true;
  const loop = (async () => {
    while (on) {
      const text = await page
        .evaluate(() => (document.querySelector('.result-window .CodeMirror') as (Element & { CodeMirror?: { getValue(): string } }) | null)?.CodeMirror?.getValue() ?? '')
        .catch(() => '');
      for (const m of text.matchAll(/"id": "([^"]+)"/g)) seen.add(m[1]!);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    seen,
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

test('GraphiQL: filtered live subscription, replay of yesterday then live, publish from a second tab', { skip, timeout: 180_000 }, async (t) => {
  const step = (s: string) => process.env.LAKEGATE_TEST_STEPS && console.error(`[graphiql-live] ${s}`);
  const kl = await createKafkaLake(t, { ingest: `ingest:\n  flushIntervalMs: 300\n  groupId: gi-live\n` });
  const gw = await startGateway({ catalog: kl.catalog, logger: quietLogger(), port: 0, host: '127.0.0.1', ingest: true });
  kl.defer(() => gw.stop());
  const base = gw.url.replace(/\/graphql$/, '');

  // Yesterday's events (Kafka record time one day ago), ingested into lake files before the browser opens.
  const prod = await trackedProducer(kl);
  const yesterday = Date.now() - 86_400_000;
  const old = Array.from({ length: 8 }, (_, i) => ({ ...orderEvent(9000 + i), id: `old-${i}` }));
  // One at a time, so offsets within each partition follow i as the record times do.
  for (const [i, e] of old.entries()) {
    await prod.producer.send({ topic: 'orders', acks: -1, messages: [{ key: e.id as string, value: JSON.stringify(e), partition: i % 4, timestamp: String(yesterday + i * 1000) }] });
  }
  step('produced yesterday');
  await waitFor('yesterday in the lake', async () => {
    const r = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ ordersAggregate { count } }' }) });
    const j = (await r.json()) as any;
    return j.data?.ordersAggregate?.[0]?.count === String(old.length);
  });

  step('yesterday in the lake');
  const browser = await launchChromium(CHROMIUM);
  kl.defer(() => browser.close());
  const page = await browser.newPage();
  const offHost = collectOffHostRequests(page, '127.0.0.1');
  // What the browser's graphql-ws socket received, in order (GraphiQL itself shows only the latest payload).
  const frames: Array<{ id: string; offset?: string }> = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const msg = JSON.parse(String(f.payload)) as { type: string; payload?: { data?: { orders?: { id: string; _meta?: { offset: string } } } } };
      const o = msg.type === 'next' ? msg.payload?.data?.orders : undefined;
      if (o) frames.push({ id: o.id, offset: o._meta?.offset });
    }),
  );
  const consoleErrors = collectConsoleErrors(page);

  step('browser up');
  // 1. A filtered live subscription: only amount >= 1000 shows.
  await runInGraphiql(page, base, 'subscription Big { orders(where: {amount: {gte: 1000}}) { id amount _meta { partition offset } } }', undefined, {
    untilRunning: true,
  });
  const pane1 = watchPane(page);
  // Served, and its tail open (the tail's start offsets are read): an event produced from now on is delivered.
  await waitFor('the subscription served, its tail open', () => gw.live.stats().subscriptions === 1 && gw.live.stats().tails === 1, 20_000, 50);
  step('subscribed (1)');
  await prod.send([
    { key: 'small-1', value: JSON.stringify({ ...orderEvent(1), id: 'small-1', amount: 5 }), partition: 0 },
    { key: 'big-1', value: JSON.stringify({ ...orderEvent(2), id: 'big-1', amount: 5000 }), partition: 1 },
  ]);
  await waitFor('big-1 shown', () => pane1.seen.has('big-1'), 20_000);
  await new Promise((r) => setTimeout(r, 300));
  step('big-1 shown');
  await pane1.stop();
  assert.ok(!pane1.seen.has('small-1'), `the filter let small-1 through: ${[...pane1.seen]}`);
  await stopGraphiql(page);

  step('step 1 done');
  // 2. Replay yesterday, then live: every old event shows (oldest first), then a new one.
  const since = new Date(yesterday - 60_000).toISOString();
  const pane2 = watchPane(page);
  await runInGraphiql(page, base, `subscription Since { orders(from: {timestamp: "${since}"}, where: {id: {startsWith: "old-"}}) { id _meta { timestamp } } }`, undefined, {
    reuse: true,
    until: (text) => text.includes('"old-7"'),
    timeoutMs: 60_000,
  });
  step('replayed');
  // 3. A second tab publishes; the first keeps streaming and shows it.
  const page2 = await browser.newPage();
  const published = JSON.parse(
    await runInGraphiql(page2, base, 'mutation Pub($i: OrderInput!) { publishOrder(input: $i) { topic partition offset timestamp } }', {
      i: { id: 'old-live', customerId: 'c-1', amount: 42.5, createdAt: new Date().toISOString() },
    }),
  ) as { data: { publishOrder: { topic: string; partition: number; offset: string } } };
  assert.equal(published.data.publishOrder.topic, 'orders');
  step('published');
  await waitFor('the published event shown in the first tab', () => pane2.seen.has('old-live'), 30_000);
  await pane2.stop();
  // The socket carried every event of yesterday, oldest first (their Kafka times increase with i), then the new one.
  const replayed = frames.map((f) => f.id).filter((id) => id.startsWith('old-'));
  assert.deepEqual(replayed, [...old.map((e) => e.id as string), 'old-live']);
  assert.ok(pane2.seen.has('old-7'), 'GraphiQL showed the replayed events');
  await stopGraphiql(page);

  step('step 3 done');
  // The published event really is at the reported position (a query reads it back from the lake with its _meta).
  await waitFor('published event in the lake', async () => {
    const r = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ orders(where: {id: {eq: "old-live"}}) { _meta { partition offset } } }' }) });
    const j = (await r.json()) as any;
    const m = j.data?.orders?.[0]?._meta;
    return m && m.partition === published.data.publishOrder.partition && m.offset === published.data.publishOrder.offset;
  });
  assert.deepEqual(offHost, []);
  assert.deepEqual(consoleErrors, []);
});

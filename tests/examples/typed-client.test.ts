// The example client's typed documents, run against the real gateway, answer what direct SQL answers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DailyRevenueByStatusDocument, OrdersPageDocument, RecentBigOrdersDocument, request } from '../../examples/client';
import { iso, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

test('RecentBigOrders', async () => {
  const since = '2026-11-19T12:00:00Z';
  const data = await request(fx.gw.url, RecentBigOrdersDocument, { since, minAmount: 10, limit: 50 });
  const rows = await fx.lake.sql(
    `SELECT o.id, o.amount, o._partition, o._offset FROM ${fx.lake.src('orders')} o WHERE createdAt >= TIMESTAMPTZ '${since}' AND amount >= 10 ORDER BY amount DESC, id ASC LIMIT 50`,
  );
  assert.deepEqual(data.orders.map((o) => [o.id, o.amount, o._meta.partition, o._meta.offset]), rows.map((r) => [r.id, r.amount, r._partition, String(r._offset)]));
  assert.ok(data.orders.every((o) => o.customer == null || o.customer.id === `c${Number(o.id.slice(1)) % 37}`));
});

test('OrdersPage walks every order newest first', async () => {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const d: Awaited<ReturnType<typeof request<any, any>>> = await request(fx.gw.url, OrdersPageDocument, { first: 333, after });
    seen.push(...d.ordersConnection.edges.map((e: { node: { id: string } }) => e.node.id));
    if (!d.ordersConnection.pageInfo.hasNextPage) break;
    after = d.ordersConnection.pageInfo.endCursor;
  }
  const rows = await fx.lake.sql(`SELECT id FROM ${fx.lake.src('orders')} ORDER BY createdAt DESC, _partition, _offset`);
  assert.deepEqual(seen, rows.map((r) => r.id));
});

test('DailyRevenueByStatus', async () => {
  const data = await request(fx.gw.url, DailyRevenueByStatusDocument, { where: { status: { in: ['paid', 'shipped'] } } });
  const rows = await fx.lake.sql(
    `SELECT time_bucket(INTERVAL 1 DAY, createdAt::TIMESTAMP) AS b, status, count(*) AS n, sum(amount) AS s FROM ${fx.lake.src('orders')}
     WHERE status IN ('paid', 'shipped') GROUP BY ALL ORDER BY b, status`,
  );
  assert.equal(data.ordersAggregate.length, rows.length);
  data.ordersAggregate.forEach((g, i) => {
    const r = rows[i]!;
    assert.equal(g.group.bucket, iso(`${r.b}+00`));
    assert.equal(g.group.status, r.status);
    assert.equal(g.count, String(r.n));
    assert.ok(Math.abs(g.sum!.amount! - Number(r.s)) < 1e-9 * Math.max(1, Math.abs(Number(r.s))));
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Gateway } from '../../server';
import { createTestLake, gqlData, startTestGateway, type TestLake, ORDER_ROWS } from '../helpers/lake-fixture';

let lake: TestLake;
let gw: Gateway;
before(async () => {
  lake = await createTestLake();
  gw = await startTestGateway(lake);
});
after(async () => {
  await gw?.stop();
  await lake?.dispose();
});

test('every row of the lake is visible once, hidden files are not', async () => {
  const [direct] = await lake.sql(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${lake.src('orders')}`);
  assert.equal(Number(direct!.n), ORDER_ROWS);
  const data = await gqlData(gw.url, `{ ordersAggregate { count } datasets { name rows files } }`);
  assert.equal(data.ordersAggregate[0].count, String(ORDER_ROWS));
  assert.equal(data.datasets.find((d: { name: string }) => d.name === 'orders').rows, String(ORDER_ROWS));
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gqlData, ORDER_ROWS, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

test('every row of the fx.lake is visible once, hidden files are not', async () => {
  const [direct] = await fx.lake.sql(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${fx.lake.src('orders')}`);
  assert.equal(Number(direct!.n), ORDER_ROWS);
  const data = await gqlData(fx.gw.url, `{ ordersAggregate { count } datasets { name rows files } }`);
  assert.equal(data.ordersAggregate[0].count, String(ORDER_ROWS));
  assert.equal(data.datasets.find((d: { name: string }) => d.name === 'orders').rows, String(ORDER_ROWS));
});

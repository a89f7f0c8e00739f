// A minimal typed lakegate client: documents typed by `npm run codegen`, sent with fetch. No client library needed.
// Run against a gateway: `node dist/examples/client.js http://127.0.0.1:4000/graphql`.

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { DailyRevenueByStatusDocument, OrdersPageDocument, RecentBigOrdersDocument } from './generated/graphql';

export class GraphQLRequestError extends Error {
  constructor(readonly errors: ReadonlyArray<{ message: string; extensions?: { code?: string } }>) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

export async function request<TResult, TVariables>(url: string, doc: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: TResult; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  if (!body.data) throw new Error(`no data in response (HTTP ${res.status})`);
  return body.data;
}

export { DailyRevenueByStatusDocument, OrdersPageDocument, RecentBigOrdersDocument };

async function main(url: string): Promise<void> {
  const since = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const big = await request(url, RecentBigOrdersDocument, { since, minAmount: 400, limit: 5 });
  for (const o of big.orders) console.log(`${o.createdAt}  ${o.id}  ${o.amount.toFixed(2).padStart(8)}  ${o.status ?? '-'}  ${o.customer?.name ?? '?'}`);
  const page = await request(url, OrdersPageDocument, { first: 3 });
  console.log(`newest: ${page.ordersConnection.edges.map((e) => e.node.id).join(', ')} (more: ${page.ordersConnection.pageInfo.hasNextPage})`);
  const daily = await request(url, DailyRevenueByStatusDocument, { where: { status: { in: ['paid', 'delivered'] } } });
  for (const g of daily.ordersAggregate) console.log(`${g.group.bucket?.slice(0, 10)}  ${String(g.group.status).padEnd(10)} ${g.count.padStart(7)}  ${g.sum?.amount?.toFixed(2)}`);
}

if (require.main === module) {
  main(process.argv[2] ?? 'http://127.0.0.1:4000/graphql').catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}

// Prometheus metrics for /metrics: process defaults plus request and operation histograms.
// One registry per gateway so that several gateways in one process (tests) do not collide.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  operations: Counter<'type' | 'outcome'>;
  operationDuration: Histogram<'type'>;
  wsConnections: Counter<'event'>;
  publishFastPath: Counter<'outcome'>;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lakegate_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'lakegate_http_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    operations: new Counter({ name: 'lakegate_graphql_operations_total', help: 'GraphQL operations by type and outcome', labelNames: ['type', 'outcome'], registers: [registry] }),
    operationDuration: new Histogram({
      name: 'lakegate_graphql_operation_duration_seconds',
      help: 'GraphQL operation execution time',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    wsConnections: new Counter({ name: 'lakegate_ws_connections_total', help: 'graphql-ws connections opened and closed', labelNames: ['event'], registers: [registry] }),
    publishFastPath: new Counter({
      name: 'lakegate_publish_fast_path_total',
      help: 'Publish mutations over HTTP by how the fast path took them: served, declined (executed by graphql-js) or failed (the error reported through graphql-js)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

// What every resolver receives: the services of this gateway and per-request state (batching loaders).
// Built once per HTTP request or websocket operation; never shared between requests.

import type DataLoader from 'dataloader';
import type { Catalog } from '../config';
import type { LakeReader } from '../lake';
import type { Publisher } from '../live/publish';
import type { WebSocket } from 'ws';

export interface GatewayContext {
  catalog: Catalog;
  lake: LakeReader;
  requestId: string;
  /** Per-request DataLoaders, keyed by relation and selected columns. */
  loaders: Map<string, DataLoader<string, unknown>>;
  /** Mutations publish through it (null when the process has no Kafka producer, e.g. `lakegate check`). */
  publisher: Publisher | null;
  /** Set for graphql-ws operations: the socket and subscription id, and the key that groups identical subscriptions. */
  ws?: { socket: WebSocket; id: string; key: string };
  /**
   * Set by the publish fast path (server/publish-fast-path.ts) when its call of a publish resolver failed: graphql-js
   * then executes the operation, and the resolver throws this error instead of publishing again.
   */
  publishFailure?: { error: unknown };
}

export function createContext(catalog: Catalog, lake: LakeReader, requestId: string, publisher: Publisher | null = null): GatewayContext {
  return { catalog, lake, requestId, loaders: new Map(), publisher };
}

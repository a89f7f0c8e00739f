// What every resolver receives: the services of this gateway and per-request state (batching loaders).
// Built once per HTTP request or websocket operation; never shared between requests.

import type DataLoader from 'dataloader';
import type { Catalog } from '../config';
import type { LakeReader } from '../lake';

export interface GatewayContext {
  catalog: Catalog;
  lake: LakeReader;
  requestId: string;
  /** Per-request DataLoaders, keyed by relation and selected columns. */
  loaders: Map<string, DataLoader<string, unknown>>;
}

export function createContext(catalog: Catalog, lake: LakeReader, requestId: string): GatewayContext {
  return { catalog, lake, requestId, loaders: new Map() };
}

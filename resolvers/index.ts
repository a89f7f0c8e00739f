export { createDatasetResolver, createDatasetsResolver, directResolversOf, selectionFor } from './dataset.resolver';
export { createContext } from './context';
export type { GatewayContext } from './context';

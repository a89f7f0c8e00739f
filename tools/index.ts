// Public entry of tools/: developer and test utilities that are not part of the gateway itself.
// Re-exports only; nothing here may start processes on import.
export { startDevCluster, defaultDevClusterBinary, type DevCluster, type DevClusterOptions } from './dev-cluster';

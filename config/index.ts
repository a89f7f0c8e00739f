export * from './catalog';
export { loadConfig, parseConfig, ConfigError } from './load';
export type { LoadOptions } from './load';

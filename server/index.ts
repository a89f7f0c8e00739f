export { startGateway, createLogger, GRAPHQL_PATH } from './gateway';
export type { Gateway, GatewayOptions } from './gateway';

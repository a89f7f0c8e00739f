export { buildGatewaySchema, printGatewaySchema } from './build';
export * from './scalars';

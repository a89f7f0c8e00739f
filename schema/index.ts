export { buildGatewaySchema, directMutationFields, printGatewaySchema } from './build';
export * from './scalars';

// The baseline server of the throughput benchmark: Apollo Server 5, standalone, one trivial resolver that accepts
// the same document as the lakegate query (same argument shapes), so only the lake work differs.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const typeDefs = `
  input StringFilter { eq: String }
  input OrderWhere { id: StringFilter }
  type Order { id: String! amount: Float! status: String }
  type Query { orders(where: OrderWhere, limit: Int): [Order!]! }`;
const resolvers = {
  Query: { orders: (_: unknown, a: { where?: { id?: { eq?: string } } }) => [{ id: a.where?.id?.eq ?? 'x', amount: 1.5, status: 'paid' }] },
};

async function main() {
  const server = new ApolloServer({ typeDefs, resolvers });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  process.stdout.write(`baseline at ${url}graphql\n`);
  process.once('SIGTERM', () => server.stop().then(() => process.exit(0)));
}
void main();

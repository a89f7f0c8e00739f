// The live side of the gateway: what subscriptions evaluate on Kafka events (filters for now; tails and fan-out follow).
// Other folders import only this file; a live filter answers exactly as the lake's SQL for the same `where`.

export { compileWhere } from './filter';
export type { EventRow, RowPredicate } from './filter';
export { compareCodePoints, compileLike, lowerCaseAsDuckDB } from './text';

// The live side of the gateway: Kafka tails shared by subscribers, history-then-live replays, and publishing.
// Other folders import only this file; a live filter answers exactly as the lake's SQL for the same `where`.

export { compileWhere } from './filter';
export type { EventRow, RowPredicate } from './filter';
export { compareCodePoints, compileLike, lowerCaseAsDuckDB } from './text';
export { createLiveHub, SLOW_SUBSCRIBER_CLOSE_CODE } from './hub';
export type { LiveHub, LiveHubOptions, LiveStats, SubscribeRequest } from './hub';
export { createPublisher, MAX_BATCH } from './publish';
export type { Publisher, PublishResult } from './publish';
export { encodeStreamCursor, decodeStreamCursor, posKey } from './cursor';
export { microsToIso } from './event';
export { compileProjection } from './project';
export type { Projection } from './project';
export { createEventDecoder } from './event';
export { RouteIndex, routeOf } from './route';

export { createIngester } from './ingester';
export type { Ingester, IngesterOptions, PartitionStatus, IngestStats } from './ingester';
export { createDecoder, parseTimestampMicros } from './decode';
export type { DecodeResult, DecodedRow } from './decode';

// Opaque cursors. Event cursors name one Kafka record (topic, partition, offset); page cursors carry keyset values.
// Both are base64url JSON: opaque to clients, validated on the way back in (a forged cursor is only ever bound as values).

import { badInput } from '../errors';

export interface EventPosition {
  topic: string;
  partition: number;
  offset: string;
}

export function encodeEventCursor(pos: EventPosition): string {
  return Buffer.from(JSON.stringify({ t: pos.topic, p: pos.partition, o: pos.offset })).toString('base64url');
}

export function decodeEventCursor(cursor: string): EventPosition {
  const o = decodeJson(cursor) as { t?: unknown; p?: unknown; o?: unknown };
  if (typeof o?.t !== 'string' || !Number.isInteger(o.p) || typeof o.o !== 'string' || !/^\d{1,19}$/.test(o.o)) {
    throw badInput('invalid cursor');
  }
  return { topic: o.t, partition: o.p as number, offset: o.o };
}

export interface PageCursor {
  /** Signature of the ordering the cursor was made under. */
  s: string;
  /** Sort key values as text (null for SQL NULL). */
  k: Array<string | null>;
  p: number;
  o: string;
}

export function encodePageCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodePageCursor(cursor: string, signature: string, keyCount: number): PageCursor {
  const c = decodeJson(cursor) as Partial<PageCursor> | null;
  if (
    !c ||
    typeof c.s !== 'string' ||
    !Array.isArray(c.k) ||
    c.k.length !== keyCount ||
    !c.k.every((x) => x === null || typeof x === 'string') ||
    !Number.isInteger(c.p) ||
    typeof c.o !== 'string' ||
    !/^\d{1,19}$/.test(c.o)
  ) {
    throw badInput('invalid cursor');
  }
  if (c.s !== signature) throw badInput('the cursor was made for a different orderBy');
  return c as PageCursor;
}

function decodeJson(cursor: string): unknown {
  if (typeof cursor !== 'string' || cursor.length > 4096 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw badInput('invalid cursor');
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('invalid cursor');
  }
}

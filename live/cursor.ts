// Stream cursors: where a subscriber stands in every partition it reads, as (topic, partition) → next offset.
// One event's offset is not enough to resume a multi-partition stream: the cursor after an event says, for each
// partition, which offsets the subscriber has had. `from: {cursor}` resumes with exactly the events not yet had.

import { badInput } from '../errors';

/** "topic\u0000partition" → next offset to deliver. */
export type Positions = Map<string, bigint>;

export const posKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function splitPosKey(k: string): { topic: string; partition: number } {
  const i = k.lastIndexOf('\u0000');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
}

/**
 * A cursor of a replay (from EARLIEST or a timestamp): the (topic, partition)s of the lake it does not name are still
 * to be read from their start (with the replay's timestamp bound). A live subscription's cursor names every partition
 * it reads, and what it does not name is not part of its stream.
 */
export interface ReplayOrigin {
  sinceMs?: number;
}

/** base64url of {"s":{"<topic>":[[partition,"next"],…]}, "r"?: {"t"?: sinceMs}}; opaque to clients. */
export function encodeStreamCursor(pos: ReadonlyMap<string, bigint>, replay?: ReplayOrigin): string {
  const byTopic: Record<string, Array<[number, string]>> = {};
  for (const [k, next] of pos) {
    const { topic, partition } = splitPosKey(k);
    (byTopic[topic] ??= []).push([partition, next.toString()]);
  }
  for (const list of Object.values(byTopic)) list.sort((a, b) => a[0] - b[0]);
  const doc: { s: typeof byTopic; r?: { t?: number } } = { s: byTopic };
  if (replay) doc.r = replay.sinceMs === undefined ? {} : { t: replay.sinceMs };
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}

export function decodeStreamCursor(cursor: string): Positions {
  return decodeStreamCursorInfo(cursor).positions;
}

export function decodeStreamCursorInfo(cursor: string): { positions: Positions; replay: ReplayOrigin | null } {
  const bad = () => badInput('invalid stream cursor: use _meta.cursor of an event this subscription delivered');
  if (typeof cursor !== 'string' || cursor.length > 65_536 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const s = (doc as { s?: unknown } | null)?.s;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw bad();
  const out: Positions = new Map();
  for (const [topic, list] of Object.entries(s as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw bad();
    for (const item of list) {
      if (!Array.isArray(item) || item.length !== 2 || !Number.isInteger(item[0]) || item[0] < 0 || typeof item[1] !== 'string' || !/^\d{1,19}$/.test(item[1])) throw bad();
      out.set(posKey(topic, item[0] as number), BigInt(item[1]));
    }
  }
  const r = (doc as { r?: unknown }).r;
  if (r === undefined) return { positions: out, replay: null };
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw bad();
  const t = (r as { t?: unknown }).t;
  if (t !== undefined && !Number.isFinite(t)) throw bad();
  return { positions: out, replay: t === undefined ? {} : { sinceMs: t as number } };
}

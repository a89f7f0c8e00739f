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

/** base64url of {"s":{"<topic>":[[partition,"next"],…]}}; opaque to clients. */
export function encodeStreamCursor(pos: ReadonlyMap<string, bigint>): string {
  const byTopic: Record<string, Array<[number, string]>> = {};
  for (const [k, next] of pos) {
    const { topic, partition } = splitPosKey(k);
    (byTopic[topic] ??= []).push([partition, next.toString()]);
  }
  for (const list of Object.values(byTopic)) list.sort((a, b) => a[0] - b[0]);
  return Buffer.from(JSON.stringify({ s: byTopic })).toString('base64url');
}

export function decodeStreamCursor(cursor: string): Positions {
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
  return out;
}

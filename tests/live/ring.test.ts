// live/ring.ts against the plain list of what was pushed: after every push the ring must hold exactly the newest
// records, byte for byte, and have reported every older one as evicted, in order, within its event and byte bounds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordRing } from '../../live/ring';

interface Pushed {
  partition: number;
  offset: bigint;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** A small deterministic generator (xorshift32), so that a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const TEXTS = ['', 'a', '{"id":"x"}', 'é€😀', '{"note":"' + 'z'.repeat(300) + '"}'];

function record(r: () => number, n: number, maxLen: number): Pushed {
  const pick = r();
  const value =
    pick < 0.05 ? null // tombstone
    : pick < 0.1 ? Buffer.alloc(0)
    : pick < 0.3 ? Buffer.from(TEXTS[Math.floor(r() * TEXTS.length)]!)
    : Buffer.from(JSON.stringify({ n, pad: 'p'.repeat(Math.floor(r() * maxLen)) }));
  const key = r() < 0.2 ? null : Buffer.from(`k-${n}-${'é'.repeat(Math.floor(r() * 4))}`);
  return { partition: Math.floor(r() * 5), offset: BigInt(n) * 3n + 2n ** 40n, timestampMs: 1_700_000_000_000 + n, key, value };
}

const bytesOf = (p: Pushed) => (p.key?.length ?? 0) + (p.value?.length ?? 0);

function check(ring: RecordRing, pushed: Pushed[], evicted: Array<[number, bigint]>, maxEvents: number, maxBytes: number, where: string) {
  const kept = ring.length;
  assert.ok(kept <= maxEvents, `${where}: ${kept} records > ${maxEvents}`);
  assert.ok(ring.arenaBytes <= maxBytes, `${where}: arena ${ring.arenaBytes} > ${maxBytes}`);
  // Everything not kept was evicted, oldest first (an oversized record is reported without being kept).
  const gone = pushed.slice(0, pushed.length - kept);
  assert.deepEqual(evicted, gone.map((p) => [p.partition, p.offset]), `${where}: evictions`);
  let held = 0;
  for (let i = 0; i < kept; i++) {
    const want = pushed[pushed.length - kept + i]!;
    const got = ring.recordAt(i);
    assert.equal(ring.partitionAt(i), want.partition, `${where}: partition of ${i}`);
    assert.equal(ring.offsetAt(i), want.offset, `${where}: offset of ${i}`);
    assert.deepEqual(got, {
      partition: want.partition,
      offset: want.offset,
      timestampMs: want.timestampMs,
      key: want.key === null ? null : want.key.toString('utf8'),
      text: want.value === null ? null : want.value.toString('utf8'),
      bytes: bytesOf(want),
    }, `${where}: record ${i}`);
    held += bytesOf(want);
  }
  assert.ok(held <= maxBytes, `${where}: ${held} bytes held > ${maxBytes}`);
  return held;
}

for (const [maxEvents, maxBytes, maxLen, pushes] of [
  [50, 1 << 20, 200, 400], // the event bound binds
  [10_000, 8_000, 300, 3_000], // the byte bound binds (the arena wraps every few dozen records)
  [64, 4_096, 900, 2_000], // both, with records up to a fifth of the arena
  [1_000, 300_000, 2_000, 1_500], // the arena grows from 256 KiB, then wraps
] as const) {
  test(`RecordRing(${maxEvents} events, ${maxBytes} bytes): always the newest records, byte for byte; every older one evicted in order`, () => {
    const r = rng(maxEvents * 7 + maxBytes);
    const evicted: Array<[number, bigint]> = [];
    const ring = new RecordRing(maxEvents, maxBytes, (p, o) => evicted.push([p, o]));
    const pushed: Pushed[] = [];
    let minHeldWhenFull = Infinity;
    for (let n = 0; n < pushes; n++) {
      const p = record(r, n, maxLen);
      pushed.push(p);
      ring.push(p.partition, p.offset, p.timestampMs, p.key, p.value);
      const held = check(ring, pushed, evicted, maxEvents, maxBytes, `after push ${n}`);
      if (ring.length < maxEvents && n > pushes / 2) minHeldWhenFull = Math.min(minHeldWhenFull, held);
    }
    if (minHeldWhenFull !== Infinity) {
      // Bound by bytes: what the wrap wastes is less than two records, so the ring stays nearly full.
      const largest = Math.max(...pushed.map(bytesOf));
      assert.ok(minHeldWhenFull >= maxBytes - 2 * (largest + 1), `only ${minHeldWhenFull} of ${maxBytes} bytes held (largest record ${largest})`);
    } else {
      assert.equal(ring.length, maxEvents, 'bound by events only: full');
    }
  });
}

test('RecordRing: a record larger than the byte bound empties the ring and is reported evicted at once; the ring then goes on', () => {
  const evicted: Array<[number, bigint]> = [];
  const ring = new RecordRing(100, 1_000, (p, o) => evicted.push([p, o]));
  const pushed: Pushed[] = [];
  const push = (p: Pushed) => {
    pushed.push(p);
    ring.push(p.partition, p.offset, p.timestampMs, p.key, p.value);
  };
  for (let n = 0; n < 5; n++) push({ partition: 1, offset: BigInt(n), timestampMs: n, key: null, value: Buffer.from(`v${n}`) });
  push({ partition: 2, offset: 99n, timestampMs: 0, key: Buffer.from('big'), value: Buffer.alloc(1_000, 0x61) });
  assert.equal(ring.length, 0);
  assert.deepEqual(evicted, [...pushed.map((p) => [p.partition, p.offset])]);
  push({ partition: 1, offset: 5n, timestampMs: 5, key: null, value: Buffer.from('after') });
  check(ring, pushed, evicted, 100, 1_000, 'after the oversized record');
  assert.equal(ring.recordAt(0).text, 'after');
});

test('RecordRing: the arena starts small and grows only as records need it', () => {
  const ring = new RecordRing(100_000, 64 * 1024 * 1024, () => {});
  assert.ok(ring.arenaBytes <= 256 * 1024, `an empty ring holds ${ring.arenaBytes} bytes`);
  const value = Buffer.alloc(1_000, 0x62);
  for (let n = 0; n < 2_000; n++) ring.push(0, BigInt(n), n, null, value);
  assert.equal(ring.length, 2_000);
  assert.ok(ring.arenaBytes >= 2_000_000 && ring.arenaBytes <= 4 * 2_000_000, `arena ${ring.arenaBytes} bytes for 2,000,000 held`);
});

// A tail's ring of recent records (what replays join live from), held outside the JS heap: the key and value bytes in
// one arena Buffer, the rest in typed arrays. Every record of a tail lives seconds in the ring (50,000 events are 5 s
// at 10,000 events/s), long enough for V8 to promote it; as JS strings and objects the ring moved ~5 MiB/s into the
// old generation, which then needed a full (mark-compact) collection every few seconds, and the seconds with one had
// a latency p99 2–3× the others (bench/README, stop 21). Here a record costs a copy of its bytes and no allocation.
//
// Invariants:
// - At most `maxEvents` records and `maxBytes` arena bytes; the oldest are evicted first (`onEvict` is told each one,
//   in ring order), so the ring is always the newest records, contiguous in ring order.
// - recordAt(i) gives back exactly the partition, offset, timestamp, key and value of the i-th oldest record.
// - A record larger than `maxBytes` empties the ring and is not kept (its eviction is reported at once).
// - The arena starts small and doubles (up to maxBytes) when it fills before maxEvents records: an idle or quiet
//   tail holds little memory.

import type { HeldRecord } from './event';

const MIN_ARENA = 256 * 1024;

/** Arena bytes of a record: its key and value (-1: absent), at least one byte, so that a record's position alone
 *  tells where the free space is. */
const spanOf = (keyLen: number, valLen: number) => Math.max(1, Math.max(keyLen, 0) + Math.max(valLen, 0));

export class RecordRing {
  private arena: Buffer;
  private readonly part: Int32Array;
  private readonly offs: BigInt64Array;
  private readonly ts: Float64Array;
  /** Arena position of each record's bytes: the key, then the value. */
  private readonly start: Int32Array;
  /** -1: no key / a tombstone. */
  private readonly keyLen: Int32Array;
  private readonly valLen: Int32Array;
  /** Slot of the oldest record. */
  private head = 0;
  private count = 0;
  /** Arena position the next record's bytes go to (before any wrap). */
  private tail = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
    private readonly onEvict: (partition: number, offset: bigint) => void,
  ) {
    this.arena = Buffer.allocUnsafe(Math.min(maxBytes, MIN_ARENA));
    this.part = new Int32Array(maxEvents);
    this.offs = new BigInt64Array(maxEvents);
    this.ts = new Float64Array(maxEvents);
    this.start = new Int32Array(maxEvents);
    this.keyLen = new Int32Array(maxEvents);
    this.valLen = new Int32Array(maxEvents);
  }

  get length(): number {
    return this.count;
  }

  /** Arena bytes held (for tests). */
  get arenaBytes(): number {
    return this.arena.length;
  }

  push(partition: number, offset: bigint, timestampMs: number, key: Buffer | null | undefined, value: Buffer | null | undefined): void {
    const kl = key === null || key === undefined ? -1 : key.length;
    const vl = value === null || value === undefined ? -1 : value.length;
    const len = spanOf(kl, vl);
    if (len > this.maxBytes) {
      while (this.count > 0) this.evict();
      this.onEvict(partition, offset);
      return;
    }
    if (this.count === this.maxEvents) this.evict();
    const pos = this.reserve(len);
    if (kl > 0) key!.copy(this.arena, pos);
    if (vl > 0) value!.copy(this.arena, pos + Math.max(kl, 0));
    const slot = (this.head + this.count) % this.maxEvents;
    this.part[slot] = partition;
    this.offs[slot] = offset;
    this.ts[slot] = timestampMs;
    this.start[slot] = pos;
    this.keyLen[slot] = kl;
    this.valLen[slot] = vl;
    this.count++;
    this.tail = pos + len;
  }

  partitionAt(i: number): number {
    return this.part[(this.head + i) % this.maxEvents]!;
  }

  offsetAt(i: number): bigint {
    return this.offs[(this.head + i) % this.maxEvents]!;
  }

  /** The i-th oldest record, as the tail holds records (strings made afresh). */
  recordAt(i: number): HeldRecord {
    const slot = (this.head + i) % this.maxEvents;
    const pos = this.start[slot]!;
    const kl = this.keyLen[slot]!;
    const vl = this.valLen[slot]!;
    const vpos = pos + Math.max(kl, 0);
    return {
      partition: this.part[slot]!,
      offset: this.offs[slot]!,
      timestampMs: this.ts[slot]!,
      key: kl < 0 ? null : this.arena.toString('utf8', pos, pos + kl),
      text: vl < 0 ? null : this.arena.toString('utf8', vpos, vpos + vl),
      bytes: Math.max(kl, 0) + Math.max(vl, 0),
    };
  }

  private evict(): void {
    const slot = this.head;
    this.head = (this.head + 1) % this.maxEvents;
    this.count--;
    if (this.count === 0) this.tail = 0;
    this.onEvict(this.part[slot]!, this.offs[slot]!);
  }

  private spanAt(slot: number): number {
    return spanOf(this.keyLen[slot]!, this.valLen[slot]!);
  }

  /** Where `len` bytes go: after the newest record, or at the arena's start; grows the arena or evicts to make room. */
  private reserve(len: number): number {
    for (;;) {
      if (this.count === 0) {
        if (len > this.arena.length) this.grow(len);
        return 0;
      }
      const headStart = this.start[this.head]!;
      if (headStart >= this.tail) {
        // Wrapped: the free space is [tail, headStart).
        if (this.tail + len <= headStart) return this.tail;
      } else {
        // The records lie in [headStart, tail): free space after them, then before them.
        if (this.tail + len <= this.arena.length) return this.tail;
        if (len <= headStart) return 0;
      }
      if (this.arena.length < this.maxBytes) this.grow(len);
      else this.evict();
    }
  }

  /** A bigger arena (doubled, at least room for `len` more bytes): the records are copied to it in ring order. */
  private grow(len: number): void {
    let used = 0;
    for (let i = 0; i < this.count; i++) used += this.spanAt((this.head + i) % this.maxEvents);
    let size = this.arena.length * 2;
    while (size < used + len) size *= 2;
    const next = Buffer.allocUnsafe(Math.min(this.maxBytes, size));
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.maxEvents;
      const n = this.spanAt(slot);
      this.arena.copy(next, at, this.start[slot]!, this.start[slot]! + n);
      this.start[slot] = at;
      at += n;
    }
    this.arena = next;
    this.tail = at;
  }
}

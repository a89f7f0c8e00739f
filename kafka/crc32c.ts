// CRC-32C (Castagnoli), the checksum of Kafka's record batches: the same value as kafkajs' crc32C
// (kafkajs/src/protocol/recordBatch/crc32C), which reads one byte per step; this reads eight per step through eight
// tables ("slicing-by-8"), about twice as fast in V8. Node has no CRC-32C of its own (zlib.crc32 is the other polynomial).

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

/** T[k * 256 + n]: the CRC of byte n followed by k zero bytes. */
const T = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32C of the bytes, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array): number {
  let crc = -1;
  let i = 0;
  const len = buf.length;
  const end8 = len - (len & 7);
  for (; i < end8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    crc =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + (b & 0xff)]! ^
      T[512 + ((b >>> 8) & 0xff)]! ^
      T[256 + ((b >>> 16) & 0xff)]! ^
      T[b >>> 24]!;
  }
  for (; i < len; i++) crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

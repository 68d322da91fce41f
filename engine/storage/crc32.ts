/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial), written here because Node 20 has no zlib.crc32
 * and the browser has none at all. Slicing-by-4: four table lookups per 4 bytes, which keeps the
 * checksum well below the cost of the fsync it protects.
 */
const tables: Uint32Array[] = makeTables();

function makeTables(): Uint32Array[] {
  const out = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  const [t0, t1, t2, t3] = out as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    t1[n] = (t0[t0[n]! & 0xff]! ^ (t0[n]! >>> 8)) >>> 0;
    t2[n] = (t0[t1[n]! & 0xff]! ^ (t1[n]! >>> 8)) >>> 0;
    t3[n] = (t0[t2[n]! & 0xff]! ^ (t2[n]! >>> 8)) >>> 0;
  }
  return out;
}

/**
 * crc32 returns the CRC-32 of `bytes[start, end)`; pass a previous result as `crc` to continue a
 * checksum over several pieces (crc32(b, 0, n, crc32(a)) equals the CRC of a followed by b).
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  const [t0, t1, t2, t3] = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
  }
  for (; i < end; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

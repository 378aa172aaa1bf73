// How the MVCC column families lay out their keys in a Region engine.
//
// A user key is stored memcomparable-encoded (TiKV's `Key::from_raw`, after the "group"
// encoding of TiDB's codec): the key in groups of 8 bytes, each padded with zeros and
// followed by a marker byte 0xFF - (pad count). The encoding keeps bytewise order and is
// prefix-free, so a timestamp can follow it without mixing versions of different keys:
//
//   lock:    enc(user_key)                  -> lock record
//   write:   enc(user_key) || ~commit_ts    -> write record (Put/Delete/Lock/Rollback)
//   default: enc(user_key) || ~start_ts     -> a value too long to sit in its write record
//
// The timestamp is big-endian and bit-inverted, so the versions of one key come newest
// first in the B-tree (TiKV's `append_ts`). Because enc() preserves order and is
// prefix-free, `u >= K  <=>  enc(u) || anything >= enc(K)`: a Region [start, end) of user
// keys is exactly [enc(start), enc(end)) of every MVCC table (mvccRange), which is what a
// split must cut them at. Raw data lives in its own table and is never encoded.
const GROUP = 8;
const MARKER = 0xff;
export const TS_BYTES = 8;
const MAX_U64 = (1n << 64n) - 1n;

export function encodeUserKey(key: Uint8Array): Buffer {
  const groups = Math.floor(key.length / GROUP) + 1;
  const out = Buffer.alloc(groups * (GROUP + 1));
  let o = 0;
  for (let i = 0; i <= key.length; i += GROUP) {
    const n = Math.min(GROUP, key.length - i);
    out.set(key.subarray(i, i + n), o);
    // Bytes after the copied ones are already zero (Buffer.alloc).
    out[o + GROUP] = MARKER - (GROUP - n);
    o += GROUP + 1;
  }
  return out;
}

/** Decodes enc(user_key) at the start of buf; returns the key and the bytes it took. */
export function decodeUserKey(buf: Uint8Array): { key: Buffer; size: number } {
  const parts: Buffer[] = [];
  let o = 0;
  for (;;) {
    if (o + GROUP + 1 > buf.length) throw new Error('truncated memcomparable key');
    const marker = buf[o + GROUP]!;
    const pad = MARKER - marker;
    if (pad < 0 || pad > GROUP) throw new Error(`bad memcomparable marker ${marker}`);
    const group = Buffer.from(buf.subarray(o, o + GROUP - pad));
    for (let i = GROUP - pad; i < GROUP; i++) {
      if (buf[o + i] !== 0) throw new Error('non-zero padding in memcomparable key');
    }
    parts.push(group);
    o += GROUP + 1;
    if (pad > 0) return { key: Buffer.concat(parts), size: o };
  }
}

export function checkTs(ts: bigint): void {
  if (ts < 0n || ts > MAX_U64) throw new RangeError(`timestamp out of range: ${ts}`);
}

/** enc(user_key) || ~ts: a version of a key in the write or default table. */
export function encodeVersionKey(key: Uint8Array, ts: bigint): Buffer {
  checkTs(ts);
  const enc = encodeUserKey(key);
  const out = Buffer.allocUnsafe(enc.length + TS_BYTES);
  enc.copy(out);
  out.writeBigUInt64BE(MAX_U64 - ts, enc.length);
  return out;
}

export function decodeVersionKey(buf: Uint8Array): { key: Buffer; ts: bigint } {
  const { key, size } = decodeUserKey(buf);
  if (buf.length !== size + TS_BYTES) throw new Error('bad version key length');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  return { key, ts: MAX_U64 - b.readBigUInt64BE(size) };
}

/** The smallest stored key of a user key's versions: its newest possible version. */
export function versionsStart(key: Uint8Array): Buffer {
  return encodeVersionKey(key, MAX_U64);
}

/** Just past the oldest possible version of a user key (exclusive end of its versions). */
export function versionsEnd(key: Uint8Array): Buffer {
  return Buffer.concat([encodeUserKey(key), Buffer.alloc(TS_BYTES, 0xff), Buffer.from([0])]);
}

/**
 * A range of user keys [start, end) (empty end: +infinity) as the range of every MVCC
 * table that holds exactly those keys' rows. A split of a Region at user key K cuts the
 * lock, write and default tables at mvccBound(K).
 */
export function mvccRange(start: Uint8Array, end: Uint8Array): { start: Buffer; end: Buffer } {
  return {
    start: start.length === 0 ? Buffer.alloc(0) : encodeUserKey(start),
    end: end.length === 0 ? Buffer.alloc(0) : encodeUserKey(end),
  };
}

/** A user-key Region bound as the bound of the MVCC tables (empty stays empty). */
export function mvccBound(key: Uint8Array): Buffer {
  return key.length === 0 ? Buffer.alloc(0) : encodeUserKey(key);
}

/**
 * The range of a table's stored keys that holds the user keys [start, end): as is for the
 * raw table, mvccRange for the MVCC tables. Whatever cuts or copies a Region by key
 * (split, merge, delete-range) must cut each table at these bounds.
 */
export function tableRange(
  table: 'raw' | 'lock' | 'write' | 'default',
  start: Uint8Array,
  end: Uint8Array,
): { start: Buffer; end: Buffer } {
  if (table === 'raw') return { start: Buffer.from(start), end: Buffer.from(end) };
  return mvccRange(start, end);
}

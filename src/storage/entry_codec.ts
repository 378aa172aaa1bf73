// Binary encoding of a Raft entry in the log engine's blob column. The index is the row
// key, so the blob carries only what the key does not:
//
//   byte 0     format version (high nibble) | entry type (low nibble)
//   varint     term (unsigned LEB128, exact for every safe integer up to 2^53)
//   rest       the payload, as is
//
// A 100-byte command costs 102 bytes instead of a JSON object several times its size,
// and term() can read the term without touching the payload.
import { Entry, EntryType } from '../raft/index.js';

const FORMAT_V1 = 1;

export class EntryCodecError extends Error {
  constructor(message: string) {
    super(`corrupt raft log entry: ${message}`);
    this.name = 'EntryCodecError';
  }
}

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Write n at pos; returns the position after it. Division, not bit shifts: n may exceed 2^32. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a varint: ${n}`);
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

/** Read a varint at pos: [value, position after it]. */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= buf.length) throw new EntryCodecError('truncated varint');
    const b = buf[pos++]!;
    n += (b & 0x7f) * mul;
    if (b < 0x80) return [n, pos];
    mul *= 0x80;
  }
  throw new EntryCodecError('varint too long');
}

export function encodeEntry(e: Entry): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(e.term) + e.data.length);
  buf[0] = (FORMAT_V1 << 4) | e.type;
  const pos = writeVarint(buf, 1, e.term);
  buf.set(e.data, pos);
  return buf;
}

function checkHeader(buf: Uint8Array): EntryType {
  if (buf.length < 2) throw new EntryCodecError('too short');
  const version = buf[0]! >> 4;
  if (version !== FORMAT_V1) throw new EntryCodecError(`unknown format version ${version}`);
  const type = buf[0]! & 0x0f;
  if (type !== EntryType.Normal && type !== EntryType.ConfChange)
    throw new EntryCodecError(`unknown entry type ${type}`);
  return type;
}

/** Decode a stored blob; the payload shares the blob's memory (no copy). */
export function decodeEntry(index: number, buf: Buffer): Entry {
  const type = checkHeader(buf);
  const [term, pos] = readVarint(buf, 1);
  return { index, term, type, data: buf.subarray(pos) };
}

export function decodeEntryTerm(buf: Uint8Array): number {
  checkHeader(buf);
  return readVarint(buf, 1)[0];
}

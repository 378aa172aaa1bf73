// A write record: what the write table holds at enc(key) || ~commit_ts (Percolator's
// "write" column, TiKV's WriteCF). It names the transaction (start_ts) whose data the
// version is, and carries short values inline so that a read needs one lookup
// (TiKV's short_value, up to 255 bytes); longer values sit in the default table at
// enc(key) || ~start_ts.
//
// A Rollback record sits at the transaction's own start_ts: it tells a late prewrite or
// commit of that transaction that it was rolled back. NyxDB never collapses rollback
// records (TiKV may drop unprotected ones); GC removes them once below the safe point,
// so every rollback here is "protected" in TiKV's sense.
export enum WriteKind {
  Put = 1,
  Delete = 2,
  Lock = 3,
  Rollback = 4,
}

export const SHORT_VALUE_MAX = 255;

export interface WriteRecord {
  kind: WriteKind;
  startTs: bigint;
  shortValue?: Buffer;
  /**
   * A commit record at commit_ts = T of one transaction and a rollback of another
   * transaction whose start_ts is T would share the key enc(k)||~T: the commit record
   * stays and carries this flag instead (TiKV's has_overlapped_rollback).
   */
  overlappedRollback?: boolean;
}

const HAS_SHORT_VALUE = 1;
const OVERLAPPED_ROLLBACK = 2;

export function encodeWrite(w: WriteRecord): Buffer {
  const sv = w.shortValue;
  if (sv && sv.length > SHORT_VALUE_MAX) throw new Error('short value too long');
  const out = Buffer.alloc(1 + 8 + 1 + (sv ? 1 + sv.length : 0));
  out[0] = w.kind;
  out.writeBigUInt64BE(w.startTs, 1);
  out[9] = (sv ? HAS_SHORT_VALUE : 0) | (w.overlappedRollback ? OVERLAPPED_ROLLBACK : 0);
  if (sv) {
    out[10] = sv.length;
    sv.copy(out, 11);
  }
  return out;
}

export function decodeWrite(b: Buffer): WriteRecord {
  if (b.length < 10) throw new Error('write record too short');
  const kind = b[0]!;
  if (!(kind in WriteKind)) throw new Error(`bad write kind ${kind}`);
  const flags = b[9]!;
  const w: WriteRecord = { kind, startTs: b.readBigUInt64BE(1) };
  let o = 10;
  if (flags & HAS_SHORT_VALUE) {
    const n = b[o]!;
    w.shortValue = Buffer.from(b.subarray(o + 1, o + 1 + n));
    o += 1 + n;
  }
  if (flags & OVERLAPPED_ROLLBACK) w.overlappedRollback = true;
  if (o !== b.length) throw new Error('trailing bytes in write record');
  return w;
}

/** A record that holds data (Put/Delete), as opposed to Lock/Rollback markers. */
export function isDataWrite(w: WriteRecord): boolean {
  return w.kind === WriteKind.Put || w.kind === WriteKind.Delete;
}

// A lock record: what the lock table holds at enc(key) while a transaction that prewrote
// (or pessimistically locked) the key is undecided (Percolator's "lock" column, TiKV's
// LockCF). The primary names the key whose fate decides the whole transaction.
import { BinaryReader, BinaryWriter } from '../../store/cmd/binary.js';

export enum LockKind {
  Put = 0,
  Delete = 1,
  Lock = 2,
  Pessimistic = 3,
}

export interface LockRecord {
  kind: LockKind;
  primary: Buffer;
  startTs: bigint;
  /** ms from startTs's physical time. */
  ttl: number;
  /** The value, inline when short (see write_record.ts). */
  shortValue?: Buffer;
  forUpdateTs: bigint;
  txnSize: number;
  /** A commit must be at or above this (readers push it; async commit derives it). */
  minCommitTs: bigint;
  useAsyncCommit: boolean;
  /** On an async-commit primary: every other key of the transaction. */
  secondaries: Buffer[];
}

const VERSION = 1;

export function encodeLock(l: LockRecord): Buffer {
  const w = new BinaryWriter(64 + l.primary.length);
  w.u8(VERSION).u8(l.kind).bytes(l.primary).u64(l.startTs).num(l.ttl);
  w.u8(l.shortValue ? 1 : 0);
  if (l.shortValue) w.bytes(l.shortValue);
  w.u64(l.forUpdateTs)
    .num(l.txnSize)
    .u64(l.minCommitTs)
    .u8(l.useAsyncCommit ? 1 : 0);
  w.u32(l.secondaries.length);
  for (const s of l.secondaries) w.bytes(s);
  return w.finish();
}

export function decodeLock(b: Uint8Array): LockRecord {
  const r = new BinaryReader(b);
  if (r.u8() !== VERSION) throw new Error('unknown lock record version');
  const kind = r.u8();
  if (!(kind in LockKind)) throw new Error(`bad lock kind ${kind}`);
  const primary = r.bytes();
  const startTs = r.u64();
  const ttl = r.num();
  const shortValue = r.u8() === 1 ? r.bytes() : undefined;
  const forUpdateTs = r.u64();
  const txnSize = r.num();
  const minCommitTs = r.u64();
  const useAsyncCommit = r.u8() === 1;
  const n = r.u32();
  const secondaries: Buffer[] = [];
  for (let i = 0; i < n; i++) secondaries.push(r.bytes());
  if (!r.done()) throw new Error('trailing bytes in lock record');
  const l: LockRecord = {
    kind,
    primary,
    startTs,
    ttl,
    forUpdateTs,
    txnSize,
    minCommitTs,
    useAsyncCommit,
    secondaries,
  };
  if (shortValue) l.shortValue = shortValue;
  return l;
}

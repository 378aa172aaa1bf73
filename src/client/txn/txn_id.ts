// The id of a transaction held by a store's TxnHost: "<store id>.<start_ts>.<token>".
// The store id lets any process find the holder (its address comes from PD); the start_ts
// helps people read logs; the random token makes an id unguessable, so knowing a
// start_ts does not let anyone act inside another's transaction.
import { randomBytes } from 'node:crypto';

export interface TxnId {
  storeId: number;
  startTs: bigint;
  token: string;
}

const FORMAT = /^(\d{1,15})\.(\d{1,20})\.([0-9a-f]{16})$/;

export function newTxnId(storeId: number, startTs: bigint): string {
  return `${storeId}.${startTs}.${randomBytes(8).toString('hex')}`;
}

/** The parts of an id, or undefined when it is not one. */
export function parseTxnId(id: string): TxnId | undefined {
  const m = FORMAT.exec(id.trim());
  if (!m) return undefined;
  const storeId = Number(m[1]);
  if (!Number.isSafeInteger(storeId) || storeId <= 0) return undefined;
  return { storeId, startTs: BigInt(m[2]!), token: m[3]! };
}

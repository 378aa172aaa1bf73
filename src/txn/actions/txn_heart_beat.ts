// TxnHeartBeat (TiKV commands/txn_heart_beat.rs): a long transaction keeps its primary
// lock alive; the TTL only grows.
import { KeyError } from '../errors.js';
import { ActionIo } from './common.js';

export function txnHeartBeat(
  io: ActionIo,
  primary: Buffer,
  startTs: bigint,
  adviseTtl: number,
): number {
  const lock = io.reader.loadLock(primary);
  if (!lock || lock.startTs !== startTs) {
    throw new KeyError({ kind: 'txnNotFound', startTs, primaryKey: primary });
  }
  if (adviseTtl > lock.ttl) {
    io.txn.putLock(primary, { ...lock, ttl: adviseTtl });
    return adviseTtl;
  }
  return lock.ttl;
}

// BatchRollback / Cleanup (TiKV commands/rollback.rs): every given key of the
// transaction loses its lock and data and gets a rollback record, so a prewrite that
// arrives late cannot resurrect the transaction. A committed key is an Abort error.
import { ActionIo, rollbackKey } from './common.js';

export function batchRollback(io: ActionIo, keys: Buffer[], startTs: bigint): void {
  for (const k of keys) rollbackKey(io, k, startTs);
}

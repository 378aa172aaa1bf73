// Percolator's commit (Figure 6, second phase): each key's lock of start_ts becomes a
// write record at commit_ts. Idempotent; TxnNotFound when a key's lock is gone and
// nothing committed it (TiKV actions/commit.rs). Commit the primary first: once its
// record exists the transaction is committed, whatever happens to the secondaries.
import { ActionIo, commitKey } from './common.js';

/** Returns whether the transaction's primary was among the locks this call committed. */
export function commit(io: ActionIo, keys: Buffer[], startTs: bigint, commitTs: bigint): boolean {
  if (commitTs <= startTs) {
    throw new RangeError(`commit_ts ${commitTs} must be above start_ts ${startTs}`);
  }
  let primary = false;
  for (const k of keys) primary = commitKey(io, k, startTs, commitTs) || primary;
  return primary;
}

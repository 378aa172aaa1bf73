// The store's GC worker settles old locks with the transactional client's lock resolver
// (src/client/txn/lock_resolver.ts): the same CheckTxnStatus / CheckSecondaryLocks /
// ResolveLock path any reader takes, as a writer (caller start_ts 0: nothing is pushed,
// an expired transaction is rolled back, a committed one rolled forward).
import { Backoffer } from '../client/backoff.js';
import type { TxnClient } from '../client/txn/txn_client.js';
import type { LockInfo__Output } from '../proto-gen/nyx/kv/LockInfo.js';
import type { GcLockResolver } from '../store/gc_worker.js';
import { lockInfoToProto } from './txn_commands.js';

const RESOLVE_DEADLINE_MS = 20_000;

export function gcLockResolver(client: TxnClient): GcLockResolver {
  return async (locks) => {
    const wire = locks.map((l) => lockInfoToProto(l) as LockInfo__Output);
    await client.resolver.resolve(new Backoffer({ deadlineMs: RESOLVE_DEADLINE_MS }), 0n, wire);
  };
}

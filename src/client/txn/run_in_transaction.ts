// Runs fn in a transaction and commits it, starting over with a new start_ts when the
// transaction hit a retryable conflict (WriteConflictError, DeadlockError): the usual
// loop around optimistic transactions (TiDB retries the same way). fn may run several
// times, so it must not have effects outside the transaction.
import { sleep } from '../backoff.js';
import { NyxError } from '../errors.js';
import type { BeginOptions, Transaction } from './transaction.js';
import type { TxnClient } from './txn_client.js';

export interface RunInTransactionOptions extends BeginOptions {
  /** Further attempts after the first (default 10). */
  retries?: number;
}

export async function runInTransaction<T>(
  client: TxnClient,
  fn: (txn: Transaction) => Promise<T>,
  options: RunInTransactionOptions = {},
): Promise<T> {
  const { retries = 10, ...begin } = options;
  for (let attempt = 0; ; attempt++) {
    const txn = await client.begin(begin);
    try {
      const result = await fn(txn);
      await txn.commit();
      return result;
    } catch (e) {
      if (txn.state === 'active') await txn.rollback().catch(() => {});
      const retryable = e instanceof NyxError && e.retryable && txn.state !== 'committing';
      if (!retryable || attempt >= retries) throw e;
      // Jittered pause so that the conflicting transactions do not collide again at once.
      await sleep(Math.random() * Math.min(500, 5 * 2 ** attempt));
    }
  }
}

// The transactional SDK's public names.
export { TxnClient, type TxnClientOptions, type TxnPd } from './txn_client.js';
export {
  Transaction,
  type BeginOptions,
  type TxnScanOptions,
  type TxnState,
} from './transaction.js';
export { runInTransaction, type RunInTransactionOptions } from './run_in_transaction.js';
export { Snapshot } from './snapshot.js';
export { TxnTooLargeError } from './mutation_buffer.js';
export {
  CommitFailedError,
  CommitUndeterminedError,
  DeadlockError,
  KeyExistsError,
  TsBelowSafePointError,
  TxnAbortedError,
  TxnClosedError,
  TxnNotFoundError,
  WriteConflictError,
} from './txn_errors.js';
export { TxnHostClient, TxnHostCallError, type TxnHostCode } from './txn_host_client.js';

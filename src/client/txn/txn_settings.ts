// The knobs of a TxnClient, resolved from its options (see TxnClientOptions).
import type { BackofferOptions } from '../backoff.js';
import type { ClientClock } from '../client_clock.js';

export interface TxnClientSettings {
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Per transaction: at most this many keys and bytes buffered. */
  maxTxnKeys: number;
  maxTxnBytes: number;
  /** Base TTL of a transaction's locks (ms), heartbeated while a commit runs. */
  lockTtlMs: number;
  /** How long a write waits for another transaction's live lock before a conflict (ms). */
  lockWaitMs: number;
  scanBatchSize: number;
  /** Backoff schedules and deadline; its clock, sleep and jitter are `clock`'s. */
  backoff: BackofferOptions;
  clock: ClientClock;
}

// The typed errors of transactions. Applications branch on the class: a
// WriteConflictError is retryable as a whole new transaction (runInTransaction does
// that); TxnAbortedError and its kin say the transaction definitely did not commit;
// CommitUndeterminedError says nobody can tell yet (Percolator §2.2: the commit point is
// the primary's commit record, and its answer was lost), so neither retry blindly nor
// assume it failed.
import type { KeyError__Output } from '../../proto-gen/nyx/kv/KeyError.js';
import type { LockInfo__Output } from '../../proto-gen/nyx/kv/LockInfo.js';
import { NyxError, UndeterminedError } from '../errors.js';

/** Printable form of a key: UTF-8 when it is plain text, hex otherwise. */
export function showKey(key: Buffer): string {
  const s = key.toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : `0x${key.toString('hex')}`;
}

/**
 * Another transaction wrote the key after this one started (first committer wins), or
 * holds a lock on it that must not be waited out. The transaction is rolled back; run it
 * again with a new start_ts.
 */
export class WriteConflictError extends NyxError {
  override readonly retryable = true;

  constructor(
    readonly key: Buffer,
    readonly startTs: bigint,
    readonly conflictStartTs: bigint,
    readonly conflictCommitTs: bigint,
  ) {
    super(
      `write conflict on key ${showKey(key)}: another transaction (start_ts ${conflictStartTs}` +
        `${conflictCommitTs > 0n ? `, commit_ts ${conflictCommitTs}` : ''}) wrote it after start_ts ${startTs}`,
    );
  }
}

/** A pessimistic lock wait would close a cycle of waiting transactions. Retryable. */
export class DeadlockError extends NyxError {
  override readonly retryable = true;

  constructor(
    readonly key: Buffer,
    readonly lockTs: bigint,
  ) {
    super(`deadlock on key ${showKey(key)} (waiting for the transaction of start_ts ${lockTs})`);
  }
}

/** The transaction definitely did not commit and never will. */
export class TxnAbortedError extends NyxError {
  constructor(
    readonly startTs: bigint,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The commit failed before its commit point — a 2PC prewrite without an answer, no
 * commit_ts from PD — so nothing committed (Percolator §2.2: only the commit of the
 * primary commits, and it was never sent); the locks are being rolled back. Retryable as
 * its cause is (a timeout is worth a new transaction; a programming error is not).
 */
export class CommitFailedError extends TxnAbortedError {
  override readonly retryable: boolean;

  constructor(startTs: bigint, cause: unknown) {
    super(
      startTs,
      `transaction ${startTs} did not commit: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.retryable = cause instanceof NyxError && cause.retryable;
  }
}

/** The transaction's locks are gone and nothing committed it: rolled back (e.g. its TTL ran out). */
export class TxnNotFoundError extends TxnAbortedError {}

/** An insert met an existing key. The transaction is rolled back. */
export class KeyExistsError extends TxnAbortedError {
  constructor(
    startTs: bigint,
    readonly key: Buffer,
  ) {
    super(startTs, `key ${showKey(key)} already exists`);
  }
}

/**
 * The commit's outcome is unknown: the primary's commit was sent, and no answer said
 * whether it took effect. It committed at most once, and a later reader of its keys
 * settles it one way or the other; the caller must not assume either.
 */
export class CommitUndeterminedError extends UndeterminedError {
  constructor(
    readonly startTs: bigint,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The read timestamp is below the GC safe point: the versions it needs may be gone. */
export class TsBelowSafePointError extends NyxError {
  constructor(
    readonly ts: bigint,
    readonly safePoint: bigint,
  ) {
    super(`timestamp ${ts} is below the GC safe point ${safePoint}; start a new transaction`);
  }
}

/** The transaction was already committed or rolled back, or is being committed. */
export class TxnClosedError extends NyxError {}

/**
 * A lock the client must resolve before it can go on (never surfaces to applications:
 * the lock resolver handles it, and a read that cannot resolve in time surfaces the
 * deadline's error).
 */
export class KeyLockedError extends NyxError {
  override readonly retryable = true;

  constructor(readonly lock: LockInfo__Output) {
    super(`key ${showKey(lock.key)} is locked by the transaction of start_ts ${lock.lockVersion}`);
  }
}

/** The typed error for a KeyError answered to transaction startTs. */
export function keyErrorToNyx(startTs: bigint, e: KeyError__Output): NyxError {
  switch (e.kind) {
    case 'locked':
      return new KeyLockedError(e.locked!);
    case 'conflict': {
      const c = e.conflict!;
      return new WriteConflictError(
        Buffer.from(c.key),
        startTs,
        BigInt(c.conflictStartTs),
        BigInt(c.conflictCommitTs),
      );
    }
    case 'alreadyExists':
      return new KeyExistsError(startTs, Buffer.from(e.alreadyExists!.key));
    case 'txnNotFound':
      return new TxnNotFoundError(
        startTs,
        `transaction ${startTs} was rolled back (its lock is gone): ${e.message}`,
      );
    case 'deadlock':
      return new DeadlockError(Buffer.from(e.deadlock!.lockKey), BigInt(e.deadlock!.lockTs));
    case 'tsBelowSafePoint':
      return new TsBelowSafePointError(
        BigInt(e.tsBelowSafePoint!.ts),
        BigInt(e.tsBelowSafePoint!.safePoint),
      );
    case 'pessimisticLockNotFound':
      return new TxnAbortedError(
        startTs,
        `pessimistic lock lost: ${e.pessimisticLockNotFound || e.message}`,
      );
    case 'abort':
      return new TxnAbortedError(
        startTs,
        `transaction ${startTs} aborted: ${e.abort || e.message}`,
      );
    case 'commitTsExpired':
      // Handled by the committer (it retries with a later commit_ts); reaching here is a bug.
      return new NyxError(`commit_ts expired: ${e.message}`);
    default:
      return new NyxError(`transaction ${startTs}: ${e.message || 'unknown key error'}`);
  }
}

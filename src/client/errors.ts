// The typed errors the SDK surfaces. Applications branch on the class (or on
// `retryable`), never on message text. Region errors are not in this list: the SDK
// repairs its region cache from them and retries, and only when the deadline passes
// does one surface, wrapped in RegionUnavailableError.
import type { RegionError } from '../region/errors.js';

export class NyxError extends Error {
  /** Whether trying the same call again later may succeed. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The call's arguments can never succeed as given (empty key, bad range, ...). */
export class InvalidArgumentError extends NyxError {}

export class KeyTooLargeError extends InvalidArgumentError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`key of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

export class ValueTooLargeError extends InvalidArgumentError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`value of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

/**
 * The store could not be reached or the connection broke before the answer came. A
 * write that fails this way may or may not have been applied.
 */
export class ConnectionError extends NyxError {
  override readonly retryable = true;

  constructor(
    readonly address: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${address}: ${message}`, options);
  }
}

/** No answer within the per-request deadline. Like a broken connection, it is ambiguous. */
export class RequestTimeoutError extends ConnectionError {}

/**
 * The Region could not be served before the call's deadline: the cause is the last
 * region error seen (no leader, busy, stale routing that never settled).
 */
export class RegionUnavailableError extends NyxError {
  override readonly retryable = true;

  constructor(
    readonly regionId: number,
    readonly regionError: RegionError,
  ) {
    super(`region ${regionId} is unavailable: ${regionError.message}`, { cause: regionError });
  }
}

/**
 * The call found no leader for the Region before its deadline, and can say why: a replica
 * it reached said it knows no leader ("region 5 has no leader (2 of 3 replicas
 * unreachable)"), or too many voters were unreachable for the call to reach a quorum
 * ("region 5 has no reachable leader (3 of 3 replicas unreachable)" — the Region may
 * have a leader the client cannot reach). The cause is the last error seen. Retryable:
 * an election, a restart or a healed network ends it.
 */
export class NoLeaderError extends NyxError {
  override readonly retryable = true;

  constructor(
    readonly regionId: number,
    /** A replica answered that it knows no leader (else: only unreachable ones). */
    readonly leaderless: boolean,
    readonly unreachableReplicas: number,
    readonly voters: number,
    options?: { cause?: unknown },
  ) {
    super(
      `region ${regionId} has no ${leaderless ? '' : 'reachable '}leader ` +
        `(${unreachableReplicas} of ${voters} replicas unreachable)`,
      options,
    );
  }
}

/** The request exceeds what one Raft entry may hold; split it into smaller calls. */
export class EntryTooLargeError extends NyxError {
  constructor(
    readonly regionId: number,
    readonly entrySize: number,
  ) {
    super(`region ${regionId}: a request of ${entrySize} bytes is too large for one Raft entry`);
  }
}

/** The store understood the request and refused it (the response's `error` string). */
export class ServerError extends NyxError {}

/** PD could not tell where a key lives (PD unreachable, or no Region answered). */
export class PdError extends NyxError {
  override readonly retryable = true;
}

/**
 * A write whose outcome cannot be known: every attempt that reached a store ended
 * without an answer before the deadline, or the Region no longer remembers the request.
 * It was applied at most once — never twice — but maybe not at all. Not retryable: a new
 * call would be a new write.
 */
export class UndeterminedError extends NyxError {}

/**
 * The Region's leader store is almost out of disk space and refuses writes that add
 * data. The write was not applied. Retryable later, once the operator made room.
 */
export class DiskFullError extends NyxError {
  override readonly retryable = true;

  constructor(
    readonly storeId: number,
    message: string,
  ) {
    super(message);
  }
}

/** The client was closed; no further calls are possible. */
export class ClientClosedError extends NyxError {}

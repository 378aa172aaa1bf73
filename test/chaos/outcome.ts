// What a failed call tells the client about its effect. A read that failed changed
// nothing and is dropped from the history. A write that failed is *indeterminate* unless
// the error proves the request never left the client: the SDK retries after lost
// connections and timeouts, so even an error about a later attempt may hide an earlier
// attempt that was applied.
import {
  ClientClosedError,
  ConnectionError,
  InvalidArgumentError,
  NoLeaderError,
  PdError,
  RegionUnavailableError,
} from '../../src/client/errors.js';
import { PdUnavailableError } from '../../src/client/pd_errors.js';

export type FailedWrite = 'indeterminate' | 'not-applied';

/** Errors that prove the request was never sent. */
function neverSent(e: unknown): boolean {
  return e instanceof InvalidArgumentError || e instanceof ClientClosedError;
}

/**
 * ConnectionError (and RequestTimeoutError), RegionUnavailableError, NoLeaderError and an
 * UndeterminedError (the SDK's own "cannot know" once writes are exactly-once) are the
 * expected ambiguous ones; anything else is treated as ambiguous too, which is the safe
 * side for the checker (an indeterminate op may or may not have happened).
 */
export function classifyFailedWrite(e: unknown): FailedWrite {
  return neverSent(e) ? 'not-applied' : 'indeterminate';
}

/**
 * Errors a fault is expected to cause (a store or PD unreachable, a Region without a
 * leader until the deadline); any other error is counted as unexpected.
 */
export function isExpectedFaultError(e: unknown): boolean {
  return (
    e instanceof ConnectionError ||
    e instanceof RegionUnavailableError ||
    e instanceof NoLeaderError ||
    e instanceof PdError ||
    e instanceof PdUnavailableError ||
    (e instanceof Error && e.name === 'UndeterminedError')
  );
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

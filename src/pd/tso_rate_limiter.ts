// A per-stream budget on TSO draws: a token bucket holding one second's worth. The global
// bound (TsoAllocator: never more than maxAheadMs ahead of the clock) keeps time honest;
// this one keeps a single caller from using up every millisecond's logical space, which
// would make every other caller wait. Plaintext callers can open more streams; each still
// gets only its share, and the global bound holds regardless.
import { PdError, PdErrorCode } from './errors.js';

/**
 * Timestamps one stream may draw per second. One client process batches all its callers
 * into one stream; 4 M/s is far above what one process uses (a transaction takes two),
 * and about 1.5 % of the 2^18 per ms the TSO can hand out.
 */
export const DEFAULT_TSO_STREAM_RATE = 4_000_000;

export class TsoRateLimiter {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number = DEFAULT_TSO_STREAM_RATE,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isSafeInteger(perSecond) || perSecond < 1) {
      throw new RangeError(`bad TSO rate ${perSecond}`);
    }
    this.tokens = perSecond;
    this.lastMs = now();
  }

  /** Takes count from the budget, or throws ServerIsBusy (taking nothing). */
  take(count: number): void {
    const t = this.now();
    if (t > this.lastMs) {
      this.tokens = Math.min(
        this.perSecond,
        this.tokens + ((t - this.lastMs) * this.perSecond) / 1000,
      );
      this.lastMs = t;
    }
    if (count > this.tokens) {
      const waitMs = Math.ceil(((count - this.tokens) * 1000) / this.perSecond);
      throw new PdError(
        PdErrorCode.ServerIsBusy,
        `this stream drew its ${this.perSecond} timestamps for the last second; retry in ${waitMs} ms`,
      );
    }
    this.tokens -= count;
  }

  /** Gives back what take() took for a draw that then failed. */
  refund(count: number): void {
    this.tokens = Math.min(this.perSecond, this.tokens + count);
  }
}

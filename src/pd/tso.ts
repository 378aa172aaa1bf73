// The timestamp oracle. Timestamps are physical_ms << 18 | logical and strictly increase
// for the life of the cluster, across PD restarts and wall-clock steps backwards.
//
// How: PD persists an upper bound U on the physical part and only ever serves physical
// times below the U that is already on disk. On start it loads U and begins at
// max(now, U + 1), so nothing it serves can equal or precede anything a previous
// incarnation served. The window is pushed forward (persisted first, then used) as the
// physical part approaches U, so the disk write happens about once per window, not per
// request. A clock that goes backwards is simply not followed: the physical part holds
// and the logical counter advances.
//
// Bounds (a caller must not be able to push time into the future): one request takes at
// most MAX_TSO_COUNT timestamps, and when a millisecond's logical space is used up PD
// steps its physical part ahead of the wall clock by at most maxAheadMs (default 50 ms);
// past that it answers ServerIsBusy until the clock catches up, so the physical part can
// never be pushed further ahead by load. Together they bound the draw to at most
// (1000 + maxAheadMs) * 2^18 timestamps per wall-clock second. (After a restart PD starts
// above the persisted window, which may lie up to saveWindowMs ahead of the clock; that
// is the price of never repeating a timestamp, and is not stepped further by load.)
//
// Everything is synchronous and single-threaded (one PD event loop), so there is no
// locking; the clock is injected so tests can drive it.

import { PdError, PdErrorCode } from './errors.js';
import { failpoint } from '../common/failpoint.js';
import type { TsoBoundStore } from './meta_store.js';
import { composeTs, MAX_LOGICAL } from './timestamp.js';

export const DEFAULT_TSO_SAVE_WINDOW_MS = 3000;
/** Timestamps one request may take (TiKV's clients batch a few thousand at most). */
export const MAX_TSO_COUNT = 10_000;
/** How far load may step the physical part ahead of the wall clock. */
export const DEFAULT_TSO_MAX_AHEAD_MS = 50;

export interface TsoOptions {
  /** Wall-clock milliseconds; defaults to Date.now. */
  now?: () => number;
  /** How far ahead of the current physical time each persisted bound reaches. */
  saveWindowMs?: number;
  /** How far exhausting the logical space may step physical ahead of the clock. */
  maxAheadMs?: number;
}

export class TsoAllocator {
  private readonly clock: () => number;
  private readonly windowMs: number;
  private readonly maxAheadMs: number;
  /** Extend the window once fewer than this many ms of it remain. */
  private readonly marginMs: number;
  private physical: number;
  private logical = 0;
  /** The persisted bound: every served physical is < this. */
  private upperBound: number;

  constructor(
    private readonly store: TsoBoundStore,
    opts: TsoOptions = {},
  ) {
    this.clock = opts.now ?? Date.now;
    this.windowMs = opts.saveWindowMs ?? DEFAULT_TSO_SAVE_WINDOW_MS;
    if (!Number.isSafeInteger(this.windowMs) || this.windowMs < 3) {
      throw new RangeError(`bad TSO window ${this.windowMs}`);
    }
    this.marginMs = Math.max(1, Math.floor(this.windowMs / 3));
    this.maxAheadMs = opts.maxAheadMs ?? DEFAULT_TSO_MAX_AHEAD_MS;
    if (!Number.isSafeInteger(this.maxAheadMs) || this.maxAheadMs < 0) {
      throw new RangeError(`bad TSO max-ahead ${this.maxAheadMs}`);
    }
    const saved = store.loadTsoUpperBound();
    this.upperBound = saved;
    // A previous incarnation may have served any physical < saved: start strictly above.
    this.physical = 0;
    this.moveTo(Math.max(this.nowMs(), saved + 1));
  }

  /**
   * Allocates `count` consecutive timestamps and returns the last one; the caller owns
   * (last - count, last]. Like PD, a client batching requests derives the others.
   */
  getTimestamp(count = 1): bigint {
    if (!Number.isInteger(count) || count < 1 || count > MAX_TSO_COUNT) {
      throw new RangeError(`TSO count must be in [1, ${MAX_TSO_COUNT}], got ${count}`);
    }
    this.tick();
    if (this.logical + count >= MAX_LOGICAL) {
      // This millisecond's logical space is used up. The caller is synchronous, so rather
      // than block until the wall clock moves, step the physical part forward ourselves,
      // but never further than maxAheadMs past the clock: beyond that, the caller waits.
      const now = this.nowMs();
      const next = this.physical + 1;
      if (next > now + this.maxAheadMs) {
        const waitMs = next - now - this.maxAheadMs;
        throw new PdError(
          PdErrorCode.ServerIsBusy,
          `TSO is ${this.physical - now} ms ahead of the clock and this millisecond's ` +
            `timestamps are used up; retry in ${waitMs} ms`,
        );
      }
      this.moveTo(next);
    }
    this.logical += count;
    return composeTs(this.physical, this.logical);
  }

  /**
   * Follows the wall clock forward (never backward) and extends the persisted window when
   * it runs low. Called on every allocation; a server may also call it on a timer so the
   * window write usually happens off the request path.
   */
  tick(): void {
    const now = this.nowMs();
    if (now > this.physical) this.moveTo(now);
    else this.ensureWindow(this.physical);
  }

  /** The last persisted upper bound (exclusive) on served physical times. */
  get persistedUpperBound(): number {
    return this.upperBound;
  }

  /** The current physical part (ms); the next timestamp has at least this physical time. */
  get currentPhysical(): number {
    return this.physical;
  }

  private moveTo(physical: number): void {
    this.ensureWindow(physical);
    this.physical = physical;
    this.logical = 0;
  }

  /** Persist a new bound before `physical` may be served if the current one is too close. */
  private ensureWindow(physical: number): void {
    if (this.upperBound - physical > this.marginMs) return;
    const bound = physical + this.windowMs;
    failpoint('tso_window_persist');
    this.store.saveTsoUpperBound(bound); // durable before anything inside it is served
    this.upperBound = bound;
  }

  private nowMs(): number {
    return Math.floor(this.clock());
  }
}

// Bounded exponential backoff with jitter, for retrying PD and store calls. Jitter keeps
// many clients that lost the same server from all reconnecting in lockstep. Backoff is
// the single schedule PD calls use; Backoffer is a KV call's whole retry budget.

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 50;
    this.maxMs = opts.maxMs ?? 1000;
  }

  /** The next wait: base * 2^attempt, capped, then scaled by a random factor in [0.5, 1]. */
  next(): number {
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(exp * (0.5 + Math.random() / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- per-call retry budget for KV requests -----------------------------------------
//
// One schedule per kind of trouble, under one overall deadline per call. Each kind keeps
// its own attempt count, because the right pause after "the leader moved" has nothing to
// do with the right pause after "the store is down". When the next pause would end past
// the deadline the call gives up at once, throwing the typed error of the last attempt:
// waiting first would only make the caller learn the same thing later.

export type BackoffKind =
  /** The cache knew nothing usable for a key, or the Region was gone: ask PD again. */
  | 'regionMiss'
  /** The store told us the fix (a leader hint, the current Regions): retry almost at once. */
  | 'updateLeader'
  /** No leader known (an election is running): give it time. */
  | 'noLeader'
  /** The store asked us to slow down; its backoff_ms wins when it gives one. */
  | 'serverBusy'
  /** The store could not be reached or the connection broke. */
  | 'connection'
  /** PD could not be reached. */
  | 'pd'
  /** A read or write met a live lock of another transaction (client-go's BoTxnLock). */
  | 'txnLock';

export interface BackoffSchedule {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_SCHEDULES: Readonly<Record<BackoffKind, BackoffSchedule>> = {
  regionMiss: { baseMs: 2, capMs: 500 },
  updateLeader: { baseMs: 1, capMs: 10 },
  noLeader: { baseMs: 10, capMs: 1000 },
  serverBusy: { baseMs: 50, capMs: 3000 },
  connection: { baseMs: 20, capMs: 2000 },
  pd: { baseMs: 50, capMs: 3000 },
  txnLock: { baseMs: 5, capMs: 200 },
};

export const DEFAULT_DEADLINE_MS = 20_000;

export interface BackofferOptions {
  /** How long the whole call may take, retries included. */
  deadlineMs?: number;
  schedules?: Partial<Record<BackoffKind, BackoffSchedule>>;
  /** In [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** One call's retry budget. fork() hands the deadline to parallel sub-requests. */
export class Backoffer {
  private readonly attempts: Map<BackoffKind, number>;
  private readonly options: BackofferOptions;
  private readonly schedules: Record<BackoffKind, BackoffSchedule>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Absolute time, in the clock of `now`. */
  readonly deadline: number;
  /** Total time slept so far (for tests and logs). */
  totalSleptMs = 0;

  constructor(
    options: BackofferOptions = {},
    deadline?: number,
    attempts?: Map<BackoffKind, number>,
  ) {
    this.options = options;
    this.schedules = { ...DEFAULT_SCHEDULES, ...options.schedules };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.deadline = deadline ?? this.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS);
    this.attempts = new Map(attempts);
  }

  /** Milliseconds left before the deadline (never negative). */
  remainingMs(): number {
    return Math.max(0, this.deadline - this.now());
  }

  /**
   * The same deadline and the attempt counts so far, counted on separately: a
   * sub-request that keeps failing keeps growing its pauses, but its siblings' failures
   * do not lengthen its own.
   */
  fork(): Backoffer {
    return new Backoffer(this.options, this.deadline, this.attempts);
  }

  /**
   * The pause before the next attempt of this kind: exponential in the attempt count,
   * capped, with "equal jitter" (half fixed, half random) so that many clients that
   * failed together do not retry together, yet none retries at once.
   */
  nextDelayMs(kind: BackoffKind, hintMs = 0): number {
    if (kind === 'serverBusy' && hintMs > 0) return hintMs;
    const n = this.attempts.get(kind) ?? 0;
    const s = this.schedules[kind];
    const exp = Math.min(s.capMs, s.baseMs * 2 ** Math.min(n, 30));
    return exp / 2 + this.random() * (exp / 2);
  }

  /**
   * Sleeps before the next attempt, or throws `lastError` when that attempt could not
   * start before the deadline. `hintMs` is a server's own estimate (ServerIsBusy).
   */
  async backoff(kind: BackoffKind, lastError: Error, hintMs = 0): Promise<void> {
    const delay = this.nextDelayMs(kind, hintMs);
    this.attempts.set(kind, (this.attempts.get(kind) ?? 0) + 1);
    if (this.now() + delay >= this.deadline) throw lastError;
    this.totalSleptMs += delay;
    await this.sleep(delay);
  }

  /** How many times this kind has backed off (for tests and logs). */
  attemptsOf(kind: BackoffKind): number {
    return this.attempts.get(kind) ?? 0;
  }
}

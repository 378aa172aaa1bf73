// Keeps the GC safe point below this client's live transactions (TiDB registers its
// oldest live start_ts the same way; PD's service safe points, src/pd/gc/safe_point.ts).
//
// A transaction needs the versions its snapshot sees until it ends; PD keeps them for
// gc-life-time anyway, so registering is only needed for transactions that live longer.
// begin() therefore never waits for PD: the first live transaction triggers a
// registration in the background (well within gc-life-time), a timer refreshes it every
// ttl/3 while transactions run (raising it as old ones end), and when none is left the
// registration is removed. A crashed client's registration lapses after its TTL.
import { physicalMs } from './lock_resolver.js';

/** What the keeper needs of PD. */
export interface ServiceSafePointPd {
  updateServiceGcSafePoint(
    serviceId: string,
    ttlSec: number,
    safePoint: bigint,
  ): Promise<{ accepted: boolean; gcSafePoint: bigint }>;
}

export interface ServiceSafePointOptions {
  serviceId: string;
  /** How long PD keeps the registration without a refresh (s). */
  ttlSec: number;
  /**
   * A transaction older than this no longer holds GC back (an abandoned Transaction
   * object must not stop GC for good; TiDB's GC gives up waiting after a day too).
   */
  maxTxnAgeMs: number;
  now?: () => number;
}

export class ServiceSafePointKeeper {
  /** start_ts → live transactions with it. */
  private readonly live = new Map<bigint, number>();
  /** The safe point PD holds for this service, if any. */
  private registered: bigint | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  /** The last failure to register (for diagnosis); cleared by a success. */
  lastError: Error | undefined;

  constructor(
    private readonly pd: ServiceSafePointPd,
    private readonly opts: ServiceSafePointOptions,
  ) {
    if (!(opts.ttlSec >= 1)) throw new RangeError('the service safe point TTL must be >= 1 s');
    this.now = opts.now ?? Date.now;
  }

  /** The safe point this client has registered (undefined: none). */
  get registeredSafePoint(): bigint | undefined {
    return this.registered;
  }

  /** A live transaction at startTs; the returned function ends it (idempotent). */
  hold(startTs: bigint): () => void {
    this.live.set(startTs, (this.live.get(startTs) ?? 0) + 1);
    if (this.registered === undefined || startTs < this.registered) this.kick();
    this.startTimer();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.live.get(startTs) ?? 1) - 1;
      if (n <= 0) this.live.delete(startTs);
      else this.live.set(startTs, n);
      // Not synced at once: the next refresh raises or removes the registration.
    };
  }

  /** The oldest start_ts that still holds GC back. */
  oldest(): bigint | undefined {
    const cutoff = this.now() - this.opts.maxTxnAgeMs;
    let min: bigint | undefined;
    for (const ts of this.live.keys()) {
      if (physicalMs(ts) < cutoff) continue;
      if (min === undefined || ts < min) min = ts;
    }
    return min;
  }

  /** Brings PD's registration in line with the live transactions now. */
  sync(): Promise<void> {
    this.kick();
    return this.syncing ?? Promise.resolve();
  }

  private kick(): void {
    if (this.closed) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async syncOnce(): Promise<void> {
    const oldest = this.oldest();
    try {
      if (oldest === undefined) {
        this.stopTimer();
        if (this.registered === undefined) return;
        await this.pd.updateServiceGcSafePoint(this.opts.serviceId, 0, 0n);
        this.registered = undefined;
      } else {
        const r = await this.pd.updateServiceGcSafePoint(
          this.opts.serviceId,
          this.opts.ttlSec,
          oldest,
        );
        // Refused: that transaction is older than the GC safe point already; its reads
        // fail with TsBelowSafePointError. Keep what PD holds for the others.
        if (r.accepted) this.registered = oldest;
      }
      this.lastError = undefined;
    } catch (e) {
      // PD unreachable: the next refresh tries again; gc-life-time still protects.
      this.lastError = e as Error;
    }
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), Math.max(100, (this.opts.ttlSec * 1000) / 3));
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Stops refreshing and removes the registration, waiting at most waitMs for PD (best
   * effort: an unremoved registration lapses after its TTL).
   */
  async close(waitMs = 500): Promise<void> {
    this.stopTimer();
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const work = (async () => {
      await this.syncing;
      if (this.registered === undefined) return;
      this.registered = undefined;
      await this.pd.updateServiceGcSafePoint(this.opts.serviceId, 0, 0n);
    })().catch(() => undefined);
    await Promise.race([work, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }
}

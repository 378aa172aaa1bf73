// The store's GC worker (TiKV's gc_worker, driven here by the store itself rather than by
// a TiDB): every gc-run-interval it fetches PD's GC safe point S (sending its progress
// along), raises the store's read floor to S, and for each Region it leads
//
//   1. resolves the locks with start_ts <= S (a dead transaction's lock there would
//      block reads at S forever; the lock resolver rolls it forward or back by its
//      primary, as any reader would), then
//   2. deletes the versions no read at >= S can see, in small steps (TxnKv.gcStep: one
//      bounded read, then one Raft proposal, so every replica deletes the same).
//
// Off the hot path: one Region after another, at most `stepsPerSecond` steps, each
// awaiting its proposal, so foreground requests interleave. Progress is remembered per
// Region (the safe point it finished at, or where it stopped), so a Region that is done
// is skipped until S moves, and an interrupted one resumes where it was.
import { Counter, Gauge, type Registry } from 'prom-client';
import { decomposeTs } from '../pd/timestamp.js';
import type { StoreGcProgress } from '../pd/gc/safe_point.js';
import { RegionError } from '../region/errors.js';
import type { LockInfo } from '../txn/errors.js';
import type { RegionPeer } from './peer.js';
import type { TxnKv } from './txn_kv.js';

/** The longest the worker sleeps before it looks at gc-run-interval again. */
const MAX_WAKE_MS = 1000;
/** Locks one ScanLock of a Region's GC hands to the resolver. */
export const GC_LOCK_BATCH = 256;

export interface GcWorkerPd {
  /** PD's safe point; the store's progress travels along (shown by `nyx gc status`). */
  getGcSafePoint(progress: Omit<StoreGcProgress, 'reportedMs'>): Promise<bigint>;
}

/** Settles locks by their primaries (the client's lock resolver); live ones stay. */
export type GcLockResolver = (locks: LockInfo[]) => Promise<void>;

export interface GcWorkerOptions {
  /** gc-run-interval now (PD's configuration; may change). */
  intervalMs: () => number;
  /** GC steps (one proposal each) per second at most. Default 50. */
  stepsPerSecond?: number;
  log?: (obj: object, msg: string) => void;
  now?: () => number;
}

interface RegionProgress {
  /** The safe point this Region's round is for. */
  safePoint: bigint;
  /** Where the next step starts; undefined once the round is done. */
  cursor: Buffer | undefined;
  locksResolved: boolean;
  /** Keys the round has walked so far. */
  keysSeen?: number;
  /** Set when a round finished having walked no key at all: the apply index then. */
  emptyAtApplied?: number;
}

export class GcWorkerMetrics {
  readonly versionsDeleted: Counter;
  readonly locksResolved: Counter;
  readonly safePoint: Gauge;
  readonly safePointLag: Gauge;
  readonly rounds: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.versionsDeleted = new Counter({
      name: 'nyx_gc_versions_deleted_total',
      help: 'MVCC versions (write records, with their long values) GC deleted in Regions this store leads',
      registers: [registry],
    });
    this.locksResolved = new Counter({
      name: 'nyx_gc_locks_resolved_total',
      help: 'Locks older than the GC safe point that GC settled through their primaries',
      registers: [registry],
    });
    this.safePoint = new Gauge({
      name: 'nyx_gc_safe_point_physical_ms',
      help: 'The physical time (ms since the epoch) of the GC safe point this store last fetched',
      registers: [registry],
    });
    this.safePointLag = new Gauge({
      name: 'nyx_gc_safe_point_lag_seconds',
      help: 'How far the GC safe point this store last fetched trails the clock',
      registers: [registry],
    });
    this.rounds = new Counter({
      name: 'nyx_gc_rounds_total',
      help: 'GC rounds by outcome (ok, error)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  }
}

export class GcWorker {
  private readonly regions = new Map<number, RegionProgress>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private versionsDeleted = 0;
  private locksResolved = 0;
  private target = 0n;
  /** When the last round began (the worker's clock). */
  private lastRound: number;
  private readonly stepGapMs: number;
  private readonly now: () => number;

  constructor(
    private readonly storeId: number,
    private readonly txnKv: TxnKv,
    /** The Regions this store hosts now. */
    private readonly peers: () => Iterable<RegionPeer>,
    private readonly pd: GcWorkerPd,
    private readonly resolveLocks: GcLockResolver | undefined,
    private readonly metrics: GcWorkerMetrics | undefined,
    private readonly opts: GcWorkerOptions,
  ) {
    const rate = opts.stepsPerSecond ?? 50;
    if (!(rate > 0)) throw new RangeError('GC steps per second must be positive');
    this.stepGapMs = 1000 / rate;
    this.now = opts.now ?? Date.now;
    // The first round at once: a restarted store learns its read floor before long.
    this.lastRound = Number.NEGATIVE_INFINITY;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /**
   * Wakes at most every second and runs a round once gc-run-interval has passed since
   * the last one began: a changed interval (nyx pd config set) takes effect within a
   * second, not after the old interval.
   */
  private schedule(): void {
    if (this.stopped) return;
    const wait = Math.max(
      0,
      Math.min(MAX_WAKE_MS, this.lastRound + this.opts.intervalMs() - this.now()),
    );
    this.timer = setTimeout(() => {
      if (this.now() < this.lastRound + this.opts.intervalMs()) {
        this.schedule();
        return;
      }
      this.lastRound = this.now();
      this.running = this.runOnce()
        .then(
          () => this.metrics?.rounds.inc({ outcome: 'ok' }),
          (e: unknown) => {
            this.metrics?.rounds.inc({ outcome: 'error' });
            this.opts.log?.({ err: (e as Error).message }, 'GC round failed');
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, wait);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** What this store has done, as PD shows it. */
  progress(): Omit<StoreGcProgress, 'reportedMs'> {
    const led = this.leaders();
    let done = 0;
    let doneSafePoint: bigint | undefined;
    for (const p of led) {
      const r = this.regions.get(p.region.id);
      const finishedAt = r && r.cursor === undefined && r.locksResolved ? r.safePoint : 0n;
      if (this.target > 0n && finishedAt >= this.target) done++;
      if (doneSafePoint === undefined || finishedAt < doneSafePoint) doneSafePoint = finishedAt;
    }
    return {
      storeId: this.storeId,
      doneSafePoint: led.length === 0 ? this.target : (doneSafePoint ?? 0n),
      safePoint: this.target,
      regionsDone: done,
      regionsLed: led.length,
      versionsDeleted: this.versionsDeleted,
      locksResolved: this.locksResolved,
    };
  }

  /** One round: fetch S, raise the read floor, collect each led Region not yet done at S. */
  async runOnce(): Promise<void> {
    const safePoint = await this.pd.getGcSafePoint(this.progress());
    if (safePoint > this.target) this.target = safePoint;
    this.txnKv.raiseSafePoint(this.target);
    if (this.target === 0n) return;
    const physical = decomposeTs(this.target).physical;
    this.metrics?.safePoint.set(physical);
    this.metrics?.safePointLag.set(Math.max(0, this.now() - physical) / 1000);
    // Forget Regions no longer hosted (moved away, merged): their progress is stale.
    const hosted = new Set([...this.peers()].map((p) => p.region.id));
    for (const id of this.regions.keys()) if (!hosted.has(id)) this.regions.delete(id);
    for (const peer of this.leaders()) {
      if (this.stopped) return;
      try {
        await this.collectRegion(peer, this.target);
      } catch (e) {
        // The Region moved or changed (leader, split): its new shape gets its own round.
        if (!(e instanceof RegionError)) throw e;
        this.regions.delete(peer.region.id);
      }
    }
  }

  private leaders(): RegionPeer[] {
    return [...this.peers()].filter((p) => p.isLeader());
  }

  private async collectRegion(peer: RegionPeer, safePoint: bigint): Promise<void> {
    const id = peer.region.id;
    let r = this.regions.get(id);
    // A sleeping Region (hibernation.ts) that held no key at its last round and has
    // applied nothing since has no garbage at any safe point: a round would only wake it.
    if (r?.emptyAtApplied === peer.appliedIndex && peer.asleep) return;
    // Nor does one whose file holds nothing but its first state (a bootstrapped Region
    // nothing was written to): a read of its locks would only open the file and wake it.
    if (peer.engine.pristine) return;
    if (!r || r.safePoint < safePoint) {
      r = { safePoint, cursor: peer.region.startKey, locksResolved: false, keysSeen: 0 };
      this.regions.set(id, r);
    }
    if (r.cursor === undefined && r.locksResolved) return; // done at this safe point
    const ctx = { regionId: id, epoch: { ...peer.region.epoch } };
    // A live lock (its transaction still runs) is tried again next round.
    if (!r.locksResolved) r.locksResolved = await this.resolveOldLocks(peer, ctx, safePoint);
    while (r.cursor !== undefined && !this.stopped) {
      const step = await this.txnKv.gcStep(ctx, safePoint, r.cursor);
      r.cursor = step.next;
      r.keysSeen = (r.keysSeen ?? 0) + step.visited;
      if (step.deleted > 0) {
        this.versionsDeleted += step.deleted;
        this.metrics?.versionsDeleted.inc(step.deleted);
      }
      await sleep(this.stepGapMs);
    }
    if (r.cursor === undefined && r.locksResolved && r.keysSeen === 0)
      r.emptyAtApplied = peer.appliedIndex;
  }

  /** Settles the Region's locks with start_ts <= S; true when none is left alive. */
  private async resolveOldLocks(
    peer: RegionPeer,
    ctx: { regionId: number; epoch: { confVer: number; version: number } },
    safePoint: bigint,
  ): Promise<boolean> {
    if (!this.resolveLocks) return true;
    let start = peer.region.startKey;
    let allSettled = true;
    for (;;) {
      const locks = await this.txnKv.scanLock(
        ctx,
        safePoint,
        start,
        peer.region.endKey,
        GC_LOCK_BATCH,
      );
      if (locks.length === 0) return allSettled;
      await this.resolveLocks(locks);
      // What is left of this batch's range: the live ones.
      const next = Buffer.concat([locks[locks.length - 1]!.key, Buffer.from([0])]);
      const alive = (await this.txnKv.scanLock(ctx, safePoint, start, next, GC_LOCK_BATCH)).length;
      const settled = Math.max(0, locks.length - alive);
      this.locksResolved += settled;
      this.metrics?.locksResolved.inc(settled);
      if (alive > 0) allSettled = false;
      if (locks.length < GC_LOCK_BATCH) return allSettled;
      start = next;
      await sleep(this.stepGapMs);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

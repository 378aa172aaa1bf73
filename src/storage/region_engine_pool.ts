// The Region engines of a store, with a cap on open SQLite handles. A store may host
// thousands of Regions; most are idle (hibernating) and must not hold a database
// handle, file descriptors and page cache each. Engines open on use; when more than
// maxOpen are open, the least recently used ones are closed (and reopen transparently
// on their next use). An engine in the middle of an operation is never closed.
import { listRegionDbIds } from './paths.js';
import { ApplyGroupLimits, RegionEngine } from './region_engine.js';

export interface RegionEnginePoolOptions {
  /** Open handles allowed at once (default 256). */
  maxOpen?: number;
  /** WAL size bound of every engine (see RegionEngineOptions). */
  walBytes?: number;
  /**
   * Whether the engines hold their files' locks between transactions (default true; see
   * RegionEngineOptions.exclusiveLocking).
   */
  exclusiveLocking?: boolean;
  /** Commit the engines' plain applies in groups (see RegionEngineOptions.applyGroup). */
  applyGroup?: ApplyGroupLimits;
  /** Milliseconds, for the groups' age (default performance.now). */
  now?: () => number;
}

export interface RegionEnginePoolStats {
  opens: number;
  evictions: number;
}

export class RegionEnginePool {
  readonly maxOpen: number;
  private readonly walBytes: number | undefined;
  private readonly exclusiveLocking: boolean;
  private readonly applyGroup: ApplyGroupLimits | undefined;
  private readonly now: (() => number) | undefined;
  private readonly engines = new Map<number, RegionEngine>();
  /** Open engines, least recently used first (Map keeps insertion order). */
  private readonly lru = new Map<number, RegionEngine>();
  readonly stats: RegionEnginePoolStats = { opens: 0, evictions: 0 };

  constructor(
    readonly dataDir: string,
    opts: RegionEnginePoolOptions = {},
  ) {
    this.maxOpen = Math.max(1, opts.maxOpen ?? 256);
    this.walBytes = opts.walBytes;
    this.exclusiveLocking = opts.exclusiveLocking ?? true;
    this.applyGroup = opts.applyGroup;
    this.now = opts.now;
  }

  /** The engine of a Region (its file is created on first use if absent). */
  get(regionId: number): RegionEngine {
    let e = this.engines.get(regionId);
    if (!e) {
      e = new RegionEngine(
        this.dataDir,
        regionId,
        {
          onUse: (x) => this.touch(x),
          // An operation that pinned several engines may have left the pool over its cap.
          onIdle: () => this.trim(),
          onClose: (x) => this.lru.delete(x.regionId),
        },
        {
          walBytes: this.walBytes,
          exclusiveLocking: this.exclusiveLocking,
          ...(this.applyGroup ? { applyGroup: this.applyGroup } : {}),
          ...(this.now ? { now: this.now } : {}),
        },
      );
      this.engines.set(regionId, e);
    }
    return e;
  }

  /**
   * Run job, which opens connections of its own to these Regions' files (a worker
   * thread's), while the pool's engines let them in (RegionEngine.share).
   */
  async whileShared<T>(regionIds: readonly number[], job: () => Promise<T>): Promise<T> {
    const releases = regionIds.map((id) => this.get(id).share());
    try {
      return await job();
    } finally {
      for (const release of releases) release();
    }
  }

  /** Regions that have a database file on disk. */
  regionIdsOnDisk(): number[] {
    return listRegionDbIds(this.dataDir);
  }

  get openCount(): number {
    return this.lru.size;
  }

  openIds(): number[] {
    return [...this.lru.keys()];
  }

  /** Close a Region's handle now (it went idle). */
  hibernate(regionId: number): void {
    this.engines.get(regionId)?.close();
  }

  /** Delete a Region's files and forget it. */
  destroy(regionId: number): void {
    const e = this.get(regionId);
    e.destroy();
    this.engines.delete(regionId);
    this.lru.delete(regionId);
  }

  /**
   * The pool's owner is done (a store stopping): close every engine for good, so that
   * nothing that still holds one reopens its file (RegionEngine.shutDown).
   */
  closeAll(): void {
    for (const e of [...this.engines.values()]) e.shutDown();
  }

  /** closeAll as a crash would: open apply groups are lost (RegionEngine.crash). */
  crashAll(): void {
    for (const e of [...this.engines.values()]) e.crash();
  }

  /** Commit the apply groups that are due (the store's ticks; an idle Region's last group). */
  commitDueGroups(): void {
    if (!this.applyGroup) return;
    for (const e of this.lru.values()) e.commitGroupIfDue();
  }

  private touch(e: RegionEngine): void {
    if (!this.lru.has(e.regionId)) this.stats.opens++;
    this.lru.delete(e.regionId);
    this.lru.set(e.regionId, e);
    this.trim();
  }

  private trim(): void {
    if (this.lru.size <= this.maxOpen) return;
    for (const victim of [...this.lru.values()]) {
      if (this.lru.size <= this.maxOpen) break;
      if (victim.isPinned) continue;
      victim.close(); // onClose removes it from the LRU
      this.stats.evictions++;
    }
  }
}

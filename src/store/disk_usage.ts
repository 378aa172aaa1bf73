// Keeps a store from filling its disk (as TiKV's disk-full protection does). Below a
// reserve of free space the store refuses new client writes with a typed DiskFull error
// instead of letting SQLite fail mid-write, which would stop the store — and, with every
// store on one full disk, the whole cluster. Reads, deletes (their pages are reused) and
// Raft traffic go on, so what is already accepted still replicates into the reserve, and
// the store takes writes again by itself once space returns.
//
// The reserve is the smaller of an absolute amount and a share of the disk, so a small
// disk (a 16 MiB test filesystem) keeps a proportionate reserve instead of refusing
// everything.
import fs from 'node:fs';
import { RegionError } from '../region/errors.js';

export interface DiskStats {
  capacityBytes: number;
  availableBytes: number;
}

export interface DiskReserveOptions {
  /** At most this many bytes are kept free. */
  reserveBytes: number;
  /** ... and at most this share of the disk. */
  reserveRatio: number;
}

export const DEFAULT_DISK_RESERVE: DiskReserveOptions = {
  reserveBytes: 2 * 2 ** 30,
  reserveRatio: 0.1,
};

/** Free space of the filesystem holding dir (bytes an unprivileged writer may use). */
export function statfsOf(dir: string): () => DiskStats {
  return () => {
    const s = fs.statfsSync(dir);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  };
}

export class DiskUsage {
  private stats: DiskStats = { capacityBytes: 0, availableBytes: 0 };
  private known = false;
  private refreshedAt = -Infinity;

  constructor(
    private readonly storeId: number,
    private readonly read: () => DiskStats,
    private readonly opts: DiskReserveOptions = DEFAULT_DISK_RESERVE,
    /** Monotonic ms. */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Read the filesystem's numbers again (also done by the store every second, for metrics). */
  refresh(): void {
    this.refreshedAt = this.clock();
    try {
      this.stats = this.read();
      this.known = true;
    } catch {
      // An unreadable statfs says nothing about space: keep the last numbers.
    }
  }

  get availableBytes(): number {
    return this.stats.availableBytes;
  }

  get capacityBytes(): number {
    return this.stats.capacityBytes;
  }

  reserveBytes(): number {
    return Math.min(
      this.opts.reserveBytes,
      Math.floor(this.stats.capacityBytes * this.opts.reserveRatio),
    );
  }

  /** Whether new data may be written (deletes always may). */
  almostFull(): boolean {
    return this.known && this.stats.availableBytes < this.reserveBytes();
  }

  /** Throws DiskFull for a write that adds data while the disk is almost full. */
  checkWrite(): void {
    // A few milliseconds of writes can overshoot the reserve of a small disk (three
    // stores on one 32 MiB disk use ~0.5 MiB per 64 KiB put): look at the filesystem
    // again before a write unless it was looked at within the last millisecond. That is
    // at most a thousand statfs calls (a few µs each) a second under any load.
    if (this.clock() - this.refreshedAt >= 1) this.refresh();
    if (!this.almostFull()) return;
    throw new RegionError({
      kind: 'DiskFull',
      storeId: this.storeId,
      availableBytes: this.stats.availableBytes,
      reserveBytes: this.reserveBytes(),
    });
  }
}

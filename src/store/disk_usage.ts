// Keeps a store from filling its disk (as TiKV's disk-full protection does). Below a
// reserve of free space the store refuses new client writes with a typed DiskFull error
// instead of letting SQLite fail mid-write, which would stop the store — and, with every
// store on one full disk, the whole cluster. Reads, deletes (their pages are reused) and
// Raft traffic go on, so what is already accepted still replicates into the reserve, and
// the store takes writes again by itself once space returns. Should the reserve be gone
// too (another program took it), Raft's own writes wait for room (roomForRaftWrite)
// rather than fail with SQLITE_FULL and stop the store.
//
// The reserve is the smaller of an absolute amount and a share of the disk, so a small
// disk (a 16 MiB test filesystem) keeps a proportionate reserve instead of refusing
// everything.
//
// What the reserve must cover is what the store may still write after it starts
// refusing: the Raft entries already accepted (replicated and applied on every replica
// that shares the disk), and SQLite checkpoints, which copy a WAL into its database file
// and so grow it by up to the WAL's size at once. The second is kept small by bounding
// every WAL in proportion to the disk (walBudgetBytes). Part of the reserve (TiKV: 20%)
// is held as a placeholder file, the last line: it is deleted when the disk is about to
// run out anyway, and written again when space returns (space_placeholder.ts).
import fs from 'node:fs';
import { invariant } from '../raft/index.js';
import { RegionError } from '../region/errors.js';
import { SpacePlaceholder } from './space_placeholder.js';

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

/**
 * Free space a Raft write (append or apply) must leave: room for SQLite to open a closed
 * Region file (its -wal and -shm) and for a few pages of metadata.
 */
export const RAFT_WRITE_SLACK_BYTES = 128 << 10;

export const DEFAULT_DISK_RESERVE: DiskReserveOptions = {
  reserveBytes: 2 * 2 ** 30,
  reserveRatio: 0.1,
};

/**
 * The share of the reserve held as a placeholder file (TiKV's split), and its cap. The cap
 * is small because the file is written with zeros (no fallocate in Node): 16 MiB per store
 * made every store start push tens of MiB through the page cache and, at writeback, the
 * disk, which slowed the fsyncs of the Raft log measurably (a 3-store integration test
 * took 70-90 s instead of 26-30 s). On a big disk the reserve itself is the margin.
 */
const PLACEHOLDER_SHARE = 0.2;
const PLACEHOLDER_MAX_BYTES = 1 << 20;

/** Size of the placeholder file for a reserve: a fifth of it, at most 1 MiB. */
export function placeholderBytesFor(reserveBytes: number): number {
  return Math.min(Math.floor(reserveBytes * PLACEHOLDER_SHARE), PLACEHOLDER_MAX_BYTES);
}

/**
 * How large a store lets each SQLite WAL grow before checkpointing it: 1/256 of the disk,
 * at least 64 KiB, at most 16 MiB (the Raft log's historical bound, so a normal disk
 * keeps today's write path). A checkpoint can grow a database file by as much as its WAL
 * holds, all at once: on a 16 MiB disk a 16 MiB WAL would never be checkpointed before
 * the disk is full, and its checkpoint could not succeed if it were.
 */
export function walBudgetBytes(capacityBytes: number): number {
  const MIN = 64 << 10;
  const MAX = 16 << 20;
  return Math.max(MIN, Math.min(MAX, Math.floor(capacityBytes / 256 / 4096) * 4096));
}

/** The reserve on a disk of capacityBytes: the smaller of the absolute amount and the share. */
export function reserveFor(capacityBytes: number, opts: DiskReserveOptions): number {
  // A NaN here silently disables the protection (min(NaN, x) is NaN, and no number is
  // below it): refuse it loudly instead.
  invariant(
    Number.isFinite(opts.reserveBytes) && opts.reserveBytes >= 0,
    () => `disk reserve must be a byte count, not ${opts.reserveBytes}`,
  );
  invariant(
    opts.reserveRatio >= 0 && opts.reserveRatio < 1,
    () => `disk reserve ratio must be in [0, 1), not ${opts.reserveRatio}`,
  );
  return Math.min(opts.reserveBytes, Math.floor(capacityBytes * opts.reserveRatio));
}

/** Free space of the filesystem holding dir (bytes an unprivileged writer may use). */
export function statfsOf(dir: string): () => DiskStats {
  return () => {
    const s = fs.statfsSync(dir);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  };
}

/** Free space this far above the reserve makes a reading good for FAR_READING_MS. */
export const FAR_FROM_RESERVE_BYTES = 1 << 30;
export const FAR_READING_MS = 100;

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
    /** Held while there is room; see space_placeholder.ts. */
    private readonly placeholder?: SpacePlaceholder,
    private readonly log: (level: 'info' | 'warn', obj: object, msg: string) => void = () =>
      undefined,
  ) {}

  /**
   * Read the filesystem's numbers again (also done by the store every second, for
   * metrics), and release or take back the placeholder file as they say.
   */
  refresh(): void {
    this.refreshedAt = this.clock();
    try {
      this.stats = this.read();
      this.known = true;
    } catch {
      // An unreadable statfs says nothing about space: keep the last numbers.
      return;
    }
    this.handlePlaceholder(() => this.adjustPlaceholder());
  }

  private adjustPlaceholder(): void {
    const ph = this.placeholder;
    if (!ph || ph.bytes === 0) return;
    const reserve = this.reserveBytes();
    const free = this.stats.availableBytes;
    if (ph.heldBytes > 0) {
      // Refusing starts at free < reserve - placeholder; only what was accepted before
      // (or another program) can take free space on down to half of that. Give the
      // placeholder's bytes to them rather than fail a Raft write with SQLITE_FULL.
      if (free < (reserve - ph.bytes) / 2)
        this.releasePlaceholder('disk almost exhausted: placeholder file released');
    } else if (free >= reserve + ph.bytes) {
      // Hysteresis: with the file written again the store still has its whole reserve,
      // so it does not flip back to refusing.
      if (ph.acquire()) {
        this.log('info', { availableBytes: free, held: ph.bytes }, 'placeholder file written');
        this.refreshStats();
      }
    }
  }

  private refreshStats(): void {
    try {
      this.stats = this.read();
    } catch {
      // Keep the last numbers.
    }
  }

  /** Bytes the placeholder file holds now (they count as room, not as used). */
  get placeholderBytes(): number {
    return this.placeholder?.heldBytes ?? 0;
  }

  get availableBytes(): number {
    return this.stats.availableBytes;
  }

  get capacityBytes(): number {
    return this.stats.capacityBytes;
  }

  reserveBytes(): number {
    return reserveFor(this.stats.capacityBytes, this.opts);
  }

  /**
   * Whether new data may be written (deletes always may). The placeholder's bytes count
   * as room: the reserve is the free space plus the placeholder, so holding it does not
   * make the store refuse earlier than --reserve-space says.
   */
  almostFull(): boolean {
    return this.known && this.stats.availableBytes + this.placeholderBytes < this.reserveBytes();
  }

  /**
   * Whether Raft may write about `bytes` of data now (a follower appending or applying
   * what its leader accepted). Nothing refuses those writes at the reserve: they are what
   * the reserve is for. But the reserve can be gone — another program took it, or a
   * replica that lagged catches up on more than it holds — and SQLite failing mid-apply
   * would stop the store. So the write waits instead while it would leave less than
   * `RAFT_WRITE_SLACK_BYTES` free, after the placeholder, if still held, was given to it
   * (TiKV likewise stops appending on a store whose disk is already full). A write needs
   * at most twice its data: WAL frames, then the pages a checkpoint copies them to.
   */
  roomForRaftWrite(bytes: number): boolean {
    this.refreshIfStale();
    if (!this.known) return true;
    const need = 2 * bytes + RAFT_WRITE_SLACK_BYTES;
    if (this.stats.availableBytes >= need) return true;
    this.handlePlaceholder(() => this.releasePlaceholder('raft write needs the room'));
    return this.stats.availableBytes >= need;
  }

  /**
   * Whether a leader may build a snapshot of `bytes` now: a copy of a Region is new data
   * on this disk that nothing has accepted yet, so it must leave the whole reserve free
   * (the placeholder counting as room, as in almostFull), and the placeholder is never
   * given to it.
   */
  roomForSnapshot(bytes: number): boolean {
    this.refreshIfStale();
    if (!this.known) return true;
    const free = this.stats.availableBytes;
    return (
      free + this.placeholderBytes - bytes >= this.reserveBytes() &&
      free >= bytes + RAFT_WRITE_SLACK_BYTES
    );
  }

  /**
   * A Raft write failed for want of space (SQLITE_FULL) all the same: give it the
   * placeholder's bytes before it is tried again.
   */
  writeFailedForSpace(): void {
    this.refresh();
    this.handlePlaceholder(() => this.releasePlaceholder('raft write failed for want of space'));
  }

  /**
   * A few milliseconds of writes can overshoot the reserve of a small disk (three stores
   * on one 32 MiB disk use ~0.5 MiB per 64 KiB put): near the reserve, every check looks
   * at the filesystem again unless it was looked at within the last millisecond. Far
   * from it (FAR_FROM_RESERVE_BYTES more free), a reading stays good for
   * FAR_READING_MS: no writer fills a gigabyte in that time, and under load the stores
   * otherwise spent ~1.5 % of their CPU in statfs, checked on every message and apply.
   */
  private refreshIfStale(): void {
    const age = this.clock() - this.refreshedAt;
    if (age < 1) return;
    const far =
      this.known &&
      this.stats.availableBytes >= this.reserveBytes() + FAR_FROM_RESERVE_BYTES &&
      age < FAR_READING_MS;
    if (!far) this.refresh();
  }

  private handlePlaceholder(f: () => void): void {
    try {
      f();
    } catch (e) {
      // The placeholder is a safety margin; failing to handle it must not fail a write.
      this.log('warn', { err: (e as Error).message }, 'placeholder file not handled');
    }
  }

  private releasePlaceholder(why: string): void {
    const ph = this.placeholder;
    if (!ph?.release()) return;
    this.log('warn', { availableBytes: this.stats.availableBytes, released: ph.bytes }, why);
    this.refreshStats();
  }

  /** Throws DiskFull for a write that adds data while the disk is almost full. */
  checkWrite(): void {
    this.refreshIfStale();
    if (!this.almostFull()) return;
    throw new RegionError({
      kind: 'DiskFull',
      storeId: this.storeId,
      availableBytes: this.stats.availableBytes,
      reserveBytes: this.reserveBytes(),
    });
  }
}

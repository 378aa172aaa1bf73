// The most recent entries of one Region's log, kept in memory so that the hot path
// (the leader sending what it just appended, the follower applying what it just
// persisted, term() checks at the tail) never reads SQLite. The cache is always a
// suffix of the log: it ends at lastIndex, so an index at or after `start` is either
// cached or past the end. It only grows by appends; reads from disk never enter it.
import { Entry, entrySize } from '../raft/index.js';

export interface EntryCacheLimits {
  /** At most this many entries per Region. */
  maxEntries: number;
  /** At most this many bytes (entrySize) per Region; the last entry is always kept. */
  maxBytes: number;
}

export const DEFAULT_CACHE_LIMITS: EntryCacheLimits = { maxEntries: 512, maxBytes: 1 << 20 };

export class EntryCache {
  private ents: Entry[] = [];
  private bytes = 0;

  constructor(private readonly limits: EntryCacheLimits) {}

  /** Index of the first cached entry (meaningless when empty). */
  get start(): number {
    return this.ents.length === 0 ? Infinity : this.ents[0]!.index;
  }

  get length(): number {
    return this.ents.length;
  }

  get size(): number {
    return this.bytes;
  }

  get(i: number): Entry | undefined {
    if (this.ents.length === 0) return undefined;
    return this.ents[i - this.ents[0]!.index];
  }

  /** Cached entries in [lo, hi); lo must be >= start. */
  slice(lo: number, hi: number): Entry[] {
    const s = this.ents[0]!.index;
    return this.ents.slice(lo - s, hi - s);
  }

  /**
   * Entries were appended to the log (already validated and contiguous, possibly
   * replacing a suffix from entries[0].index on).
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const s = this.start;
    if (this.ents.length > 0 && first > s && first <= s + this.ents.length) {
      // Keep the agreeing prefix, replace the conflicting suffix.
      for (const e of this.ents.splice(first - s)) this.bytes -= entrySize(e);
    } else {
      // Empty, replaced from (or before) its start, or behind by a gap: start over.
      this.ents = [];
      this.bytes = 0;
    }
    for (const e of entries) {
      this.ents.push(e);
      this.bytes += entrySize(e);
    }
    this.trim();
  }

  /** Entries up to and including i were compacted away. */
  compactTo(i: number): void {
    if (this.ents.length === 0 || i < this.start) return;
    for (const e of this.ents.splice(0, i - this.start + 1)) this.bytes -= entrySize(e);
  }

  clear(): void {
    this.ents = [];
    this.bytes = 0;
  }

  private trim(): void {
    let drop = 0;
    let bytes = this.bytes;
    const n = this.ents.length;
    while (n - drop > 1 && (n - drop > this.limits.maxEntries || bytes > this.limits.maxBytes)) {
      bytes -= entrySize(this.ents[drop]!);
      drop++;
    }
    if (drop > 0) {
      this.ents = this.ents.slice(drop);
      this.bytes = bytes;
    }
  }
}

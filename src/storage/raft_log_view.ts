// One Region's view of the Raft log engine, implementing the core's Storage interface
// with exactly MemoryStorage's semantics (same bounds, same typed errors, same size
// limit). Bounds and the hard state live in memory, updated only after a write batch
// commits, and recent entries come from the EntryCache, so the hot path reads no SQLite.
import {
  CompactedError,
  ConfState,
  Entry,
  HardState,
  InitialState,
  Snapshot,
  SnapshotMetadata,
  Storage,
  UnavailableError,
  entrySize,
} from '../raft/index.js';
import { EntryCache } from './entry_cache.js';
import { decodeEntry, decodeEntryTerm } from './entry_codec.js';
import { StorageClosedError, StorageCorruptionError } from './errors.js';
import { RegionLogState } from './raft_log_state.js';

/**
 * Builds the snapshot a lagging follower needs. The store provides it: the data comes
 * from the Region engine, the log only knows indexes. May throw
 * SnapshotTemporarilyUnavailableError while a snapshot is being generated.
 */
export type SnapshotBuilder = (regionId: number, storage: RegionRaftStorage) => Snapshot;

/** How the view reads what is not cached. */
export interface LogReader {
  /** Rows [index, blob] of the Region's entries in [lo, hi), ascending. */
  range(regionId: number, lo: number, hi: number): IterableIterator<[number, Buffer]>;
  entry(regionId: number, index: number): Buffer | undefined;
}

/** Without a builder: the metadata of the last installed snapshot and no data. */
export const metadataOnlySnapshot: SnapshotBuilder = (_id, storage) => ({
  data: new Uint8Array(0),
  metadata: storage.snapshotMetadata(),
});

export class RegionRaftStorage implements Storage {
  private destroyed = false;
  /** Overrides the confState of initialState (e.g. from the Region meta, as TiKV does). */
  confStateProvider: (() => ConfState) | undefined = undefined;

  constructor(
    readonly regionId: number,
    private st: RegionLogState,
    readonly cache: EntryCache,
    private readonly reader: LogReader,
    private builder: SnapshotBuilder,
  ) {}

  // --- Storage ---

  initialState(): InitialState {
    this.checkAlive();
    return {
      hardState: { ...this.st.hardState },
      confState: this.confStateProvider?.() ?? this.st.snapshot.confState,
    };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    this.checkAlive();
    const st = this.st;
    if (lo <= st.truncatedIndex) throw new CompactedError();
    if (hi > st.lastIndex + 1) throw new UnavailableError();
    if (st.lastIndex === st.truncatedIndex) throw new UnavailableError();
    if (lo >= hi) return [];
    const cacheStart = this.cache.start;
    const out: Entry[] = [];
    let size = 0;
    // Keep entries while the total stays within maxSize, but always the first one.
    const take = (e: Entry): boolean => {
      size += entrySize(e);
      if (out.length > 0 && size > maxSize) return false;
      out.push(e);
      return true;
    };
    if (lo < cacheStart) {
      const diskHi = Math.min(hi, cacheStart);
      let want = lo;
      for (const [index, blob] of this.reader.range(this.regionId, lo, diskHi)) {
        if (index !== want) throw this.hole(want);
        want++;
        if (!take(decodeEntry(index, blob))) return out;
      }
      if (want !== diskHi) throw this.hole(want);
      if (hi <= cacheStart) return out;
    }
    for (const e of this.cache.slice(Math.max(lo, cacheStart), hi)) if (!take(e)) break;
    return out;
  }

  term(i: number): number {
    this.checkAlive();
    const st = this.st;
    if (i < st.truncatedIndex) throw new CompactedError();
    if (i > st.lastIndex) throw new UnavailableError();
    if (i === st.truncatedIndex) return st.truncatedTerm;
    const cached = this.cache.get(i);
    if (cached) return cached.term;
    const blob = this.reader.entry(this.regionId, i);
    if (!blob) throw this.hole(i);
    return decodeEntryTerm(blob);
  }

  lastIndex(): number {
    this.checkAlive();
    return this.st.lastIndex;
  }

  firstIndex(): number {
    this.checkAlive();
    return this.st.truncatedIndex + 1;
  }

  snapshot(): Snapshot {
    this.checkAlive();
    return this.builder(this.regionId, this);
  }

  // --- beyond Storage ---

  hardState(): HardState {
    return { ...this.st.hardState };
  }

  snapshotMetadata(): SnapshotMetadata {
    return this.st.snapshot;
  }

  truncatedState(): { index: number; term: number } {
    return { index: this.st.truncatedIndex, term: this.st.truncatedTerm };
  }

  setSnapshotBuilder(b: SnapshotBuilder): void {
    this.builder = b;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** @internal The engine publishes state here after a batch commits. */
  _state(): RegionLogState {
    return this.st;
  }

  /** @internal */
  _publish(st: RegionLogState): void {
    this.st = st;
  }

  /** @internal */
  _markDestroyed(): void {
    this.destroyed = true;
    this.cache.clear();
  }

  private checkAlive(): void {
    if (this.destroyed)
      throw new StorageClosedError(`raft log of region ${this.regionId} was destroyed`);
  }

  private hole(i: number): StorageCorruptionError {
    return new StorageCorruptionError(
      `region ${this.regionId}: entry ${i} missing in [${this.st.truncatedIndex + 1}, ${this.st.lastIndex}]`,
    );
  }
}

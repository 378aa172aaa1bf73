// One store-loop turn's worth of Raft log writes, for any number of Regions. The engine
// commits a batch in a single SQLite transaction: one fsync however many Regions it
// touches (TiKV's raftstore write batch). Operations apply in the order they were added.
import { Entry, HardState, SnapshotMetadata } from '../raft/index.js';
import type { Tombstone } from './tombstone.js';

export type RaftLogOp =
  | { kind: 'append'; regionId: number; entries: Entry[] }
  | { kind: 'hardState'; regionId: number; hardState: HardState }
  | { kind: 'snapshot'; regionId: number; metadata: SnapshotMetadata }
  | { kind: 'compact'; regionId: number; index: number }
  | { kind: 'destroy'; regionId: number }
  | { kind: 'tombstone'; regionId: number; tombstone: Tombstone };

/** What a Ready asks to persist (the fields of rawnode's Ready that reach the log). */
export interface PersistableReady {
  snapshot?: { metadata: SnapshotMetadata };
  entries: Entry[];
  hardState?: HardState;
}

export class RaftLogWriteBatch {
  readonly ops: RaftLogOp[] = [];
  private entryCount = 0;

  /** Append entries, truncating any conflicting suffix (MemoryStorage.append). */
  append(regionId: number, entries: Entry[]): this {
    if (entries.length > 0) {
      this.ops.push({ kind: 'append', regionId, entries });
      this.entryCount += entries.length;
    }
    return this;
  }

  setHardState(regionId: number, hardState: HardState): this {
    this.ops.push({ kind: 'hardState', regionId, hardState: { ...hardState } });
    return this;
  }

  /**
   * Install a snapshot's metadata: the log is replaced by a single dummy entry at the
   * snapshot's index and term (MemoryStorage.applySnapshot). The data itself goes to
   * the Region engine.
   */
  applySnapshot(regionId: number, metadata: SnapshotMetadata): this {
    this.ops.push({ kind: 'snapshot', regionId, metadata });
    return this;
  }

  /**
   * Discard entries up to and including `index`, which becomes the truncated (dummy)
   * entry, so firstIndex() becomes index + 1 (MemoryStorage.compact). Compacting at or
   * below what is already truncated is a no-op rather than an error: a snapshot in the
   * same loop may have truncated further, and one Region's stale request must not fail
   * the whole batch.
   */
  compact(regionId: number, index: number): this {
    this.ops.push({ kind: 'compact', regionId, index });
    return this;
  }

  /** Remove the Region's whole log and state (the peer was destroyed). */
  destroyRegion(regionId: number): this {
    this.ops.push({ kind: 'destroy', regionId });
    return this;
  }

  /** Record that this store's replica of the Region is gone for good (tombstone.ts). */
  tombstone(regionId: number, tombstone: Tombstone): this {
    this.ops.push({ kind: 'tombstone', regionId, tombstone: { ...tombstone } });
    return this;
  }

  /** Add what a Ready asks to persist, in the order it must be applied. */
  addReady(regionId: number, rd: PersistableReady): this {
    if (rd.snapshot && rd.snapshot.metadata.index > 0)
      this.applySnapshot(regionId, rd.snapshot.metadata);
    this.append(regionId, rd.entries);
    if (rd.hardState) this.setHardState(regionId, rd.hardState);
    return this;
  }

  get isEmpty(): boolean {
    return this.ops.length === 0;
  }

  /** Entries appended by this batch, over all Regions. */
  get entries(): number {
    return this.entryCount;
  }

  /** Distinct Regions this batch touches. */
  regionIds(): number[] {
    return [...new Set(this.ops.map((o) => o.regionId))];
  }

  clear(): void {
    this.ops.length = 0;
    this.entryCount = 0;
  }
}

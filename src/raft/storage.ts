// The read side of a node's persisted Raft state. The core only reads through this
// interface; the application writes (entries, hard state, snapshots) after each Ready.
import { CompactedError, SnapshotOutOfDateError, UnavailableError, invariant } from './errors.js';
import {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Snapshot,
  emptyConfState,
  emptyHardState,
  entrySize,
} from './types.js';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if any, and at most maxSize bytes beyond the first. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: number): number;
  lastIndex(): number;
  firstIndex(): number;
  /** The most recent snapshot (may throw SnapshotTemporarilyUnavailableError). */
  snapshot(): Snapshot;
}

/** Keep a prefix of ents whose total size is within maxSize, but at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/**
 * Storage held in memory: used by tests and the simulator, and as the shape a durable
 * engine follows. ents[0] is a dummy entry carrying the snapshot's index and term.
 */
export class MemoryStorage implements Storage {
  hardState: HardState = emptyHardState();
  private snap: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 0, term: 0, confState: emptyConfState() },
  };
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }];

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    // Only the dummy entry: nothing to return.
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace everything with the snapshot's state. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = snap;
    this.ents = [
      {
        term: snap.metadata.term,
        index: snap.metadata.index,
        type: EntryType.Normal,
        data: new Uint8Array(0),
      },
    ];
  }

  /** Make a snapshot at applied index i, to be served to followers that fell behind. */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    const offset = this.ents[0]!.index;
    invariant(
      i <= this.lastIndex(),
      `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`,
    );
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cs ?? this.snap.metadata.confState,
      },
    };
    return this.snap;
  }

  /** Discard entries before compactIndex; it must not exceed the applied index. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new CompactedError();
    invariant(
      compactIndex <= this.lastIndex(),
      `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`,
    );
    const i = compactIndex - offset;
    const head = this.ents[i]!;
    this.ents = [
      { term: head.term, index: head.index, type: EntryType.Normal, data: new Uint8Array(0) },
      ...this.ents.slice(i + 1),
    ];
  }

  /** Append new entries, truncating any conflicting suffix. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all compacted already
    // Drop the part of entries that is already compacted.
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.ents[0]!.index;
    invariant(
      offset <= this.ents.length,
      () => `missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`,
    );
    if (offset < this.ents.length) this.ents = this.ents.slice(0, offset);
    for (const e of entries) this.ents.push(e);
  }
}

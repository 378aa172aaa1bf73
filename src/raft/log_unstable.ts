// The tail of the log not yet persisted by the application: entries appended by this
// node (or received from the leader) and possibly an incoming snapshot. Entry i is
// at entries[i - offset]. Once the application reports them persisted they move to
// Storage and leave this buffer.
//
// The application may write several Readies at once (etcd-io/raft's async storage
// writes): entries from offsetInProgress on, and a snapshot not yet in progress, are
// what the next Ready hands out; the ones before it are being written. They stay here,
// readable and replaceable by a new leader, until stableTo says they are durable.
import { invariant } from './errors.js';
import { Entry, Snapshot } from './types.js';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];

  /** Entries below this index were handed out in a Ready and are being written. */
  offsetInProgress: number;
  /** The snapshot was handed out in a Ready and is being written. */
  snapshotInProgress = false;

  constructor(public offset: number) {
    this.offsetInProgress = offset;
  }

  /** Entries not yet handed out in a Ready. */
  nextEntries(): Entry[] {
    return this.hasNextEntries() ? this.entries.slice(this.offsetInProgress - this.offset) : [];
  }

  /** Whether some entry was not yet handed out in a Ready (nextEntries, without the copy). */
  hasNextEntries(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  /** The snapshot, if not yet handed out in a Ready. */
  nextSnapshot(): Snapshot | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Everything unstable was handed out in a Ready: the next one starts after it. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /** The first index, if only a snapshot is unstable. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries up to (index, term) are now in Storage. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    // Only drop entries if the term matches: a newer leader may have replaced them
    // (with the same index) while they were being persisted.
    if (t === undefined || t !== term || index < this.offset) return;
    invariant(
      index < this.offsetInProgress,
      () =>
        `stableTo(${index}) of an entry never handed out (in progress below ${this.offsetInProgress})`,
    );
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.metadata.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  truncateAndAppend(ents: Entry[]): void {
    const from = ents[0]!.index;
    if (from === this.offset + this.entries.length) {
      // The common case: append directly after the last entry.
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      // Replace the whole unstable part; the log was truncated to before offset.
      this.offset = from;
      this.entries = ents.slice();
    } else {
      // Truncate to from-1, then append.
      this.entries = this.slice(this.offset, from).concat(ents);
    }
    // Entries being written from `from` on are replaced: the next Ready writes the new
    // ones (after the old, so they win), and stableTo of the old ones sees another term.
    this.offsetInProgress = Math.min(this.offsetInProgress, from);
  }

  slice(lo: number, hi: number): Entry[] {
    invariant(
      this.offset <= lo && lo <= hi && hi <= this.offset + this.entries.length,
      () =>
        `unstable.slice[${lo},${hi}) out of bound [${this.offset},${this.offset + this.entries.length}]`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

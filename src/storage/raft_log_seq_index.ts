// Where each Region's log entries lie in raft.db's append-ordered table (raft_log_schema.ts).
// Entries of every Region are rows keyed by one store-wide sequence number, written at the
// tail, so a log write dirties the last pages of one B-tree whatever the number of Regions
// it carries (TiKV's raft-engine appends every Region's entries to one log file for the
// same reason). Finding a Region's entry by index then needs this map, kept in memory and
// rebuilt at open by one scan of the table: per Region, the seq of each index it holds.
// A Region's rows are in index order in seq order too, because a log only ever loses a
// suffix (a conflict, rewritten at the tail) or a prefix (compaction).
import { invariant } from '../raft/index.js';
import { StorageCorruptionError } from './errors.js';

/** The seqs of one Region's entries: seqs[k] holds index first + k. */
export class RegionSeqs {
  first = 0;
  readonly seqs: number[] = [];

  get isEmpty(): boolean {
    return this.seqs.length === 0;
  }

  /** The last index held; first - 1 when empty. */
  get last(): number {
    return this.first + this.seqs.length - 1;
  }

  seq(index: number): number | undefined {
    return index < this.first ? undefined : this.seqs[index - this.first];
  }

  /** Record entry `index` at `seq`: the next index after the last, or the first of all. */
  append(index: number, seq: number): void {
    if (this.isEmpty) this.first = index;
    invariant(
      index === this.last + 1,
      () => `seq index: entry ${index} does not follow ${this.last}`,
    );
    this.seqs.push(seq);
  }

  /** Forget indexes >= index; their seqs, to delete. */
  truncateFrom(index: number): number[] {
    if (index > this.last) return [];
    const from = Math.max(0, index - this.first);
    return this.seqs.splice(from);
  }

  /** Forget indexes <= index; their seqs, to delete. */
  compactTo(index: number): number[] {
    if (this.isEmpty || index < this.first) return [];
    const n = Math.min(this.seqs.length, index - this.first + 1);
    const gone = this.seqs.splice(0, n);
    this.first += n;
    return gone;
  }

  clear(): number[] {
    const gone = this.seqs.splice(0);
    this.first = 0;
    return gone;
  }
}

/** Runs of consecutive seqs, for range deletes: [from, to] inclusive. */
export function seqRuns(seqs: readonly number[]): [number, number][] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const s of sorted) {
    const r = runs[runs.length - 1];
    if (r && s === r[1] + 1) r[1] = s;
    else runs.push([s, s]);
  }
  return runs;
}

/**
 * Build every Region's seqs from the table's rows in seq order. A Region whose indexes
 * are not contiguous there was written by something other than this engine: corruption.
 */
export function buildSeqIndex(
  rows: Iterable<[seq: number, regionId: number, index: number]>,
): Map<number, RegionSeqs> {
  const out = new Map<number, RegionSeqs>();
  for (const [seq, regionId, index] of rows) {
    let r = out.get(regionId);
    if (!r) {
      r = new RegionSeqs();
      out.set(regionId, r);
    }
    if (!r.isEmpty && index !== r.last + 1)
      throw new StorageCorruptionError(
        `region ${regionId}: log entry ${index} (seq ${seq}) does not follow entry ${r.last}`,
      );
    r.append(index, seq);
  }
  return out;
}

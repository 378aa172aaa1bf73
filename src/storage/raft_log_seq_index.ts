// Where each Region's log entries lie in raft.db's append-ordered table (raft_log_schema.ts).
// Entries of every Region are rows keyed by one store-wide sequence number, written at the
// tail, so a log write dirties the last pages of one B-tree whatever the number of Regions
// it carries (TiKV's raft-engine appends every Region's entries to one log file for the
// same reason). Finding a Region's entry by index then needs this map, kept in memory and
// rebuilt at open by one scan of the table: per Region, the seq of each index it holds.
// A Region's rows are in index order in seq order too, because a log only ever loses a
// suffix (a conflict, rewritten at the tail) or a prefix (compaction).
//
// Compaction only forgets entries here: their rows stay on disk as garbage until the
// engine purges the table's whole prefix below every Region's first live entry (one
// contiguous delete; deleting a Region's rows one by one, spread among other Regions'
// rows, cost 11x more per row). At open, a Region's rows at or below its truncated index
// are that garbage.
import { invariant } from '../raft/index.js';
import { StorageCorruptionError } from './errors.js';

/** The seqs of one Region's entries: seqs[k] holds index first + k. */
export class RegionSeqs {
  first = 0;
  readonly seqs: number[] = [];
  /** No row of this Region, live or garbage, lies below this seq (Infinity: none at all). */
  floor = Infinity;
  /** ... nor above this one (-Infinity: none at all). */
  top = -Infinity;

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
    this.saw(seq);
  }

  /** A row of this Region, live or garbage, lies at seq. */
  saw(seq: number): void {
    if (seq < this.floor) this.floor = seq;
    if (seq > this.top) this.top = seq;
  }

  /** The seq of the first live entry; Infinity when empty. */
  get firstSeq(): number {
    return this.seqs.length === 0 ? Infinity : this.seqs[0]!;
  }

  /** Forget indexes >= index; their seqs, to delete. */
  truncateFrom(index: number): number[] {
    if (index > this.last) return [];
    const from = Math.max(0, index - this.first);
    return this.seqs.splice(from);
  }

  /** Forget indexes <= index: their rows become garbage for the purge. */
  compactTo(index: number): void {
    if (this.isEmpty || index < this.first) return;
    const n = Math.min(this.seqs.length, index - this.first + 1);
    this.seqs.splice(0, n);
    this.first += n;
  }

  /** Forget everything, once every row of the Region (garbage too) has been deleted. */
  clear(): void {
    this.seqs.length = 0;
    this.first = 0;
    this.floor = Infinity;
    this.top = -Infinity;
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
 * Build every Region's seqs from the table's rows in seq order. Rows at or below a
 * Region's truncated index (undefined: a Region without state, all garbage) are compacted
 * garbage: they only lower its floor. A Region whose live indexes are not contiguous was
 * written by something other than this engine: corruption.
 */
export function buildSeqIndex(
  rows: Iterable<[seq: number, regionId: number, index: number]>,
  truncatedIndex: (regionId: number) => number | undefined,
): Map<number, RegionSeqs> {
  const out = new Map<number, RegionSeqs>();
  for (const [seq, regionId, index] of rows) {
    let r = out.get(regionId);
    if (!r) {
      r = new RegionSeqs();
      out.set(regionId, r);
    }
    const truncated = truncatedIndex(regionId); // garbage at or below it
    if (truncated === undefined || index <= truncated) {
      r.saw(seq);
      continue;
    }
    if (!r.isEmpty && index !== r.last + 1)
      throw new StorageCorruptionError(
        `region ${regionId}: log entry ${index} (seq ${seq}) does not follow entry ${r.last}`,
      );
    r.append(index, seq);
  }
  return out;
}

export interface PurgeLimits {
  /** Stragglers are moved only once about this many garbage rows lie below the tail. */
  rewriteAfterGarbageRows: number;
  /** At most this many live rows are moved by one purge (so one purge stays short). */
  rewriteMaxRows: number;
}

export const DEFAULT_PURGE_LIMITS: PurgeLimits = {
  rewriteAfterGarbageRows: 1 << 16,
  rewriteMaxRows: 1 << 14,
};

/** The purge may delete every row below this seq: no Region has a live entry there. */
export function purgeFloor(index: ReadonlyMap<number, RegionSeqs>, nextSeq: number): number {
  let floor = nextSeq;
  for (const r of index.values()) if (r.firstSeq < floor) floor = r.firstSeq;
  return floor;
}

/**
 * Regions whose few live entries hold back the purge (an idle Region's last entries, far
 * behind the tail): rewriting them at the tail lets the garbage below them go, as TiKV's
 * raft-engine rewrites the live entries of old log files before purging them. Only when
 * the garbage is large, only Regions whose first live entry is in the older half of the
 * table, and at most limits.rewriteMaxRows live rows in all.
 */
export function stragglers(
  index: ReadonlyMap<number, RegionSeqs>,
  purgedTo: number,
  nextSeq: number,
  limits: PurgeLimits,
): number[] {
  let live = 0;
  for (const r of index.values()) live += r.seqs.length;
  if (nextSeq - purgedTo - live < limits.rewriteAfterGarbageRows) return [];
  const mid = purgedTo + Math.floor((nextSeq - purgedTo) / 2);
  const out: number[] = [];
  let rows = 0;
  for (const [id, r] of index) {
    if (r.firstSeq >= mid || rows + r.seqs.length > limits.rewriteMaxRows) continue;
    out.push(id);
    rows += r.seqs.length;
  }
  return out;
}

// A majority configuration: a set of voters where any majority forms a quorum
// (thesis §3.1). The empty configuration agrees to everything, which lets a joint
// configuration with no outgoing half behave like its incoming half alone.
import { NodeId } from '../types.js';

export enum VoteResult {
  Pending = 'Pending',
  Lost = 'Lost',
  Won = 'Won',
}

/** The index a voter has acknowledged, or undefined if it acknowledged nothing. */
export type AckedIndexer = (id: NodeId) => number | undefined;

export class MajorityConfig {
  readonly ids: Set<NodeId>;

  constructor(ids: Iterable<NodeId> = []) {
    this.ids = new Set(ids);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: NodeId): boolean {
    return this.ids.has(id);
  }

  sorted(): NodeId[] {
    return [...this.ids].sort((a, b) => a - b);
  }

  toString(): string {
    return `(${this.sorted().join(' ')})`;
  }

  /**
   * The largest index acknowledged by a quorum: sort the acknowledged indexes and take
   * the one that a majority has reached. Voters that acknowledged nothing count as 0.
   */
  committedIndex(acked: AckedIndexer): number {
    const n = this.ids.size;
    if (n === 0) return Number.POSITIVE_INFINITY;
    const idx: number[] = [];
    for (const id of this.ids) idx.push(acked(id) ?? 0);
    idx.sort((a, b) => a - b);
    // With n voters, the (n - (n/2+1))-th smallest is reached by a majority.
    return idx[n - (Math.floor(n / 2) + 1)]!;
  }

  /** Won once a majority granted, Lost once a majority can no longer be reached. */
  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    if (this.ids.size === 0) return VoteResult.Won;
    let granted = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const q = Math.floor(this.ids.size / 2) + 1;
    if (granted >= q) return VoteResult.Won;
    if (granted + missing >= q) return VoteResult.Pending;
    return VoteResult.Lost;
  }
}

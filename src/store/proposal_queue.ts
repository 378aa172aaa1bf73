// Client proposals waiting for their entry to be applied. A proposal is identified by the
// (index, term) its entry got when the leader appended it: if the entry applied at that index
// has another term, a newer leader overwrote it and the proposal failed with StaleCommand —
// a region error, because it was definitely not applied and the client may retry.
import { RegionError } from '../region/errors.js';

export interface PendingProposal<R> {
  index: number;
  term: number;
  proposedAt: number;
  /** Lease generation when proposed: its commit renews the lease of that generation. */
  leaseGeneration: number;
  done: (result: R | Error) => void;
}

export class ProposalQueue<R> {
  private queue: PendingProposal<R>[] = [];
  private head = 0;

  constructor(private readonly regionId: number) {}

  private stale(): RegionError {
    return new RegionError({ kind: 'StaleCommand', regionId: this.regionId });
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  push(p: PendingProposal<R>): void {
    const last = this.queue[this.queue.length - 1];
    if (last && this.size > 0 && p.index <= last.index) {
      // A new leader term reuses indexes: everything at or after p.index is stale.
      this.failFrom(p.index, () => this.stale());
    }
    this.queue.push(p);
  }

  /**
   * The entry (index, term) was applied. Returns the proposal it answers, if any; earlier
   * proposals that are still waiting can never be answered and are failed.
   */
  take(index: number, term: number): PendingProposal<R> | undefined {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      if (p.index > index) break;
      this.head++;
      if (p.index === index && p.term === term) {
        this.compact();
        return p;
      }
      p.done(this.stale());
    }
    this.compact();
    return undefined;
  }

  /** Fail every proposal older than `deadline` (ms) with `err`. */
  expire(deadline: number, err: () => Error): void {
    const next: PendingProposal<R>[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.proposedAt < deadline) p.done(err());
      else next.push(p);
    }
    this.queue = next;
    this.head = 0;
  }

  failAll(err: () => Error): void {
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]!.done(err());
    this.queue = [];
    this.head = 0;
  }

  private failFrom(index: number, err: () => Error): void {
    const keep: PendingProposal<R>[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.index >= index) p.done(err());
      else keep.push(p);
    }
    this.queue = keep;
    this.head = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

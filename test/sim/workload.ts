// The client workload: writes with unique values and linearizable reads with unique
// contexts, each sent to a random running node (followers forward to the leader). A
// refused request is simply dropped, as a client would retry elsewhere.
import { ProposalDroppedError, UncommittedSizeExceededError } from '../../src/raft/index.js';
import type { Cluster } from './cluster.js';
import type { SimNode } from './node.js';

export class Workload {
  private nextWrite = 0;
  private nextRead = 0;
  proposals = 0;
  refused = 0;
  reads = 0;

  constructor(
    private readonly c: Cluster,
    /** Fraction of requests that are reads. */
    private readonly readRate: number,
  ) {}

  /** One client request through a random running node. */
  request(): void {
    const live = this.c.live();
    if (live.length === 0) return;
    const n = this.c.rng.pick(live);
    if (this.c.rng.chance(this.readRate)) this.read(n);
    else if (this.c.rng.chance(0.2)) {
      // A batch: several commands in one proposal.
      const k = this.c.rng.int(2, 4);
      const vals: Uint8Array[] = [];
      for (let i = 0; i < k; i++) vals.push(Buffer.from(`v${this.nextWrite++}`));
      this.attempt(n, `propose ${k} values`, () => n.raw!.proposeEntries(vals));
    } else {
      const v = `v${this.nextWrite++}`;
      this.attempt(n, `propose ${v}`, () => n.raw!.propose(Buffer.from(v)));
    }
  }

  /** A write of `value` through n; true if n took it (it may still be lost later). */
  write(n: SimNode, value: string): boolean {
    return this.attempt(n, `propose ${value}`, () => n.raw!.propose(Buffer.from(value)));
  }

  private read(n: SimNode): void {
    const ctx = `r${this.nextRead++}`;
    // The floor is taken now: the read must see everything committed before this moment.
    this.c.checker.readIssued(ctx);
    this.c.lease?.readIssued(n, ctx, this.c.sched.now);
    this.reads++;
    this.attempt(n, `read ${ctx}`, () => n.raw!.readIndex(Buffer.from(ctx)));
  }

  private attempt(n: SimNode, what: string, f: () => void): boolean {
    this.c.touch(n);
    try {
      f();
      this.proposals++;
      this.c.log(`client ${what} via ${n.id}`);
      return true;
    } catch (e) {
      if (e instanceof ProposalDroppedError || e instanceof UncommittedSizeExceededError) {
        this.refused++;
        this.c.log(`client ${what} via ${n.id} refused: ${e.message}`);
        return false;
      }
      throw e;
    }
  }
}

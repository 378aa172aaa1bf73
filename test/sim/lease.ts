// The leader lease of a NyxDB store (src/store/lease.ts and its use in src/store/peer.ts),
// modelled on the simulated clock, and the property it must keep: while a leader holds a
// valid lease it serves reads alone, so no other node may lead a later term meanwhile.
//
// The store's rules, in simulated time (one tick = TICK units):
//   - renew: a quorum acknowledged something the leader sent at time T — a proposal of its
//     term that committed (T = when it was appended), or a ReadIndex round it started
//     (T = when it asked) — makes the lease valid until T + (electionTick - 2) ticks;
//   - expire: a change of role or leader, a leadership transfer in progress, a membership
//     change applied; each starts a new generation, so confirmations of earlier sends
//     no longer renew;
//   - only with check-quorum (the store always runs with it): without it nothing stops a
//     follower from voting at once, and no lease is trusted.
// The followers' side (ignore votes for an election timeout after hearing from the
// leader, also after a restart) is what the Raft core must provide; this model only
// watches for the outcome it must prevent.
import { NONE, NodeId, ReadState, StateRole } from '../../src/raft/index.js';
import type { SimNode } from './node.js';

interface Sent {
  at: number;
  generation: number;
}

interface NodeLease {
  incarnation: number;
  role: StateRole;
  lead: NodeId;
  term: number;
  generation: number;
  validUntil: number;
  /** Own-term entries with data appended while leading, by index, not yet committed. */
  proposals: Map<number, Sent>;
  /** Highest index looked at for new proposals. */
  seenIndex: number;
  /** ReadIndex requests this node started while leading, by context. */
  reads: Map<string, Sent>;
}

export class LeaseModel {
  private readonly nodes = new Map<NodeId, NodeLease>();
  /** Lease reads that a leader could have served (renewals that made a lease valid). */
  renewals = 0;

  constructor(
    /** Ticks a lease lasts past the send it rests on (the store: electionTick - 2). */
    private readonly leaseSpan: number,
    private readonly fail: (msg: string) => never,
  ) {}

  private state(n: SimNode): NodeLease {
    let s = this.nodes.get(n.id);
    const r = n.raw!.raft;
    if (!s || s.incarnation !== n.incarnation) {
      // A new process: nothing of the old one's lease survives.
      s = {
        incarnation: n.incarnation,
        role: r.state,
        lead: r.lead,
        term: r.term,
        generation: 0,
        validUntil: 0,
        proposals: new Map(),
        seenIndex: r.raftLog.lastIndex(),
        reads: new Map(),
      };
      this.nodes.set(n.id, s);
    }
    return s;
  }

  private expire(s: NodeLease): void {
    s.validUntil = 0;
    s.generation++;
    s.proposals.clear();
    s.reads.clear();
  }

  private renew(s: NodeLease, sent: Sent): void {
    if (sent.generation !== s.generation) return;
    const until = sent.at + this.leaseSpan;
    if (until > s.validUntil) {
      s.validUntil = until;
      this.renewals++;
    }
  }

  /** A client read asked of node n (the store renews only from its own reads as leader). */
  readIssued(n: SimNode, ctx: string, now: number): void {
    if (!n.raw || n.raw.raft.state !== StateRole.Leader) return;
    const s = this.state(n);
    s.reads.set(ctx, { at: now, generation: s.generation });
  }

  readStates(n: SimNode, rss: ReadState[]): void {
    if (!n.raw || n.raw.raft.state !== StateRole.Leader) return;
    const s = this.state(n);
    for (const rs of rss) {
      const ctx = Buffer.from(rs.requestCtx).toString();
      const sent = s.reads.get(ctx);
      if (!sent) continue;
      s.reads.delete(ctx);
      this.renew(s, sent);
    }
  }

  /** A membership change was applied on n. */
  confApplied(n: SimNode): void {
    if (n.raw) this.expire(this.state(n));
  }

  /** After every step: follow role changes and commits, then check the property. */
  afterStep(nodes: Iterable<SimNode>, now: number): void {
    const leaders: { n: SimNode; s: NodeLease }[] = [];
    for (const n of nodes) {
      const raw = n.raw;
      if (!raw) continue;
      const r = raw.raft;
      const s = this.state(n);
      if (s.role !== r.state || s.lead !== r.lead || s.term !== r.term) {
        s.role = r.state;
        s.lead = r.lead;
        s.term = r.term;
        this.expire(s);
      }
      if (r.state !== StateRole.Leader) {
        s.seenIndex = r.raftLog.lastIndex();
        continue;
      }
      if (r.leadTransferee !== NONE) this.expire(s);
      const log = r.raftLog;
      const last = log.lastIndex();
      if (last > s.seenIndex) {
        for (const e of log.slice(Math.max(s.seenIndex + 1, log.firstIndex()), last + 1, Infinity))
          if (e.term === r.term && e.data.length > 0)
            s.proposals.set(e.index, { at: now, generation: s.generation });
      }
      s.seenIndex = last;
      for (const [index, sent] of s.proposals) {
        if (index > log.committed) continue;
        s.proposals.delete(index);
        this.renew(s, sent);
      }
      leaders.push({ n, s });
    }
    for (const a of leaders) {
      if (a.s.validUntil <= now) continue;
      for (const b of leaders) {
        if (b.s.term <= a.s.term) continue;
        this.fail(
          `leader lease: node ${b.n.id} leads term ${b.s.term} while node ${a.n.id}, leader of ` +
            `term ${a.s.term}, holds a lease valid until ${a.s.validUntil} (now ${now})`,
        );
      }
    }
  }
}

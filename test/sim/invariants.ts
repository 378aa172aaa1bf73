// The safety properties of Raft (thesis §3.6, Figure 3.2), checked after every step of
// a run. The checker keeps cluster-wide history that no single node has: which node led
// each term, what each (index, term) entry looked like wherever it appeared, and what was
// committed (applied anywhere) at each index. A violation throws SimFailure.
import { Entry, NodeId, ReadState, StateRole } from '../../src/raft/index.js';
import type { SimNode } from './node.js';

export class SimFailure extends Error {}

interface EntryRecord {
  /** Type and payload of the entry, as a string. */
  key: string;
  /** Term of the entry just before it in the log it was seen in (-1 when unknown). */
  prevTerm: number;
}

interface CommittedRecord {
  term: number;
  key: string;
  /** The state machine digest after applying it. */
  digest: number;
  /**
   * An upper bound of the term in which the entry was committed: the term of the first
   * node that applied it (that node heard of the commit from a leader of that term or
   * earlier). Leaders of later terms must hold the entry.
   */
  termBound: number;
}

export class Checker {
  /** Every leader ever seen, by term: at most one per term (Election Safety). */
  readonly leaders = new Map<number, NodeId>();
  /** Every (index, term) ever seen in a log, keyed by entryKey. */
  private readonly entries = new Map<number, EntryRecord>();
  /** What was committed at each index (applied by some node). */
  private readonly committed = new Map<number, CommittedRecord>();
  /** The highest index committed anywhere; read indexes must not be below it. */
  maxCommit = 0;
  /** Reads in flight: context → maxCommit when the read was issued. */
  private readonly reads = new Map<string, number>();
  readsServed = 0;

  constructor() {
    // Every founding member starts from the same bootstrap snapshot at index 1.
    this.committed.set(1, { term: 1, key: 'bootstrap', digest: 0, termBound: 1 });
  }

  get committedCount(): number {
    return this.committed.size;
  }

  // ------------------------------------------------------------------ after each step

  /** Checks that look at the live state of the nodes. */
  afterStep(nodes: Iterable<SimNode>, touched: ReadonlySet<SimNode>): void {
    for (const n of nodes) {
      const raw = n.raw;
      if (!raw) continue;
      const r = raw.raft;
      if (r.raftLog.committed > this.maxCommit) this.maxCommit = r.raftLog.committed;
      if (r.state === StateRole.Leader) this.checkLeader(n);
      if (touched.has(n)) this.checkUnstable(n);
    }
  }

  /** Election Safety, and Leader Completeness for a leader seen for the first time. */
  private checkLeader(n: SimNode): void {
    const term = n.raw!.raft.term;
    const known = this.leaders.get(term);
    if (known === n.id) return;
    if (known !== undefined)
      this.fail(`two leaders in term ${term}: node ${known} and node ${n.id}`);
    this.leaders.set(term, n.id);
    for (const [index, c] of this.committed) {
      if (c.termBound < term) this.checkHolds(n, index, c, 'was elected');
    }
  }

  /** A leader of a term after the commit must hold the committed entry (or a snapshot past it). */
  private checkHolds(n: SimNode, index: number, c: CommittedRecord, when: string): void {
    const log = n.raw!.raft.raftLog;
    if (index < log.firstIndex()) return; // compacted: covered by the snapshot digest check
    const t = log.zeroTermOnOutOfBounds(index);
    if (t !== c.term)
      this.fail(
        `leader completeness: node ${n.id} ${when} leader of term ${n.raw!.raft.term} ` +
          `without committed entry ${index} (term ${c.term}, committed by term ${c.termBound}); ` +
          `its log has term ${t} there (last index ${log.lastIndex()})`,
      );
  }

  /** Log Matching over the unstable (not yet persisted) part of a node's log. */
  private checkUnstable(n: SimNode): void {
    const log = n.raw!.raft.raftLog;
    const ents = log.unstable.entries;
    if (ents.length === 0) return;
    let prev = log.zeroTermOnOutOfBounds(ents[0]!.index - 1);
    for (const e of ents) {
      this.checkEntry(n, e, prev, 'unstable');
      prev = e.term;
    }
  }

  // ------------------------------------------------------------------ node events

  /** Log Matching over entries just made durable. */
  persisted(n: SimNode, ents: Entry[]): void {
    if (ents.length === 0) return;
    const s = n.storage;
    const first = ents[0]!.index;
    let prev = first - 1 >= s.firstIndex() - 1 ? s.term(first - 1) : -1;
    for (const e of ents) {
      if (e.index >= s.firstIndex()) {
        // What storage now holds at e.index must be e itself.
        const stored = s.term(e.index);
        if (stored !== e.term)
          this.fail(
            `node ${n.id} persisted entry ${e.index}/${e.term} but storage has term ${stored}`,
          );
        this.checkEntry(n, e, prev, 'persisted');
      }
      prev = e.term;
    }
  }

  /**
   * Log Matching, inductively: an (index, term) pair names one entry everywhere, and the
   * entry before it always has the same term. Two logs that share an (index, term)
   * therefore share every entry up to it.
   */
  private checkEntry(n: SimNode, e: Entry, prevTerm: number, where: string): void {
    const k = entryKey(e.index, e.term);
    const key = payloadKey(e);
    const rec = this.entries.get(k);
    if (!rec) {
      this.entries.set(k, { key, prevTerm });
      return;
    }
    if (rec.key !== key)
      this.fail(
        `log matching: entry ${e.index}/${e.term} in node ${n.id}'s ${where} log has payload ` +
          `${key}, elsewhere ${rec.key}`,
      );
    if (prevTerm > 0 && rec.prevTerm > 0 && prevTerm !== rec.prevTerm)
      this.fail(
        `log matching: entry ${e.index}/${e.term} follows term ${prevTerm} in node ${n.id}'s ` +
          `${where} log but term ${rec.prevTerm} elsewhere`,
      );
    if (rec.prevTerm <= 0 && prevTerm > 0) rec.prevTerm = prevTerm;
  }

  /** State Machine Safety, and no committed entry is ever replaced (even across crashes). */
  applied(n: SimNode, e: Entry): void {
    const key = payloadKey(e);
    const c = this.committed.get(e.index);
    if (!c) {
      const termBound = n.raw!.raft.term;
      const rec: CommittedRecord = { term: e.term, key, digest: n.sm.digest, termBound };
      this.committed.set(e.index, rec);
      // Leaders of a later term that already exist must hold it too.
      for (const [term, id] of this.leaders) {
        if (term <= termBound) continue;
        const l = this.nodeLookup?.(id);
        if (l?.raw && l.raw.raft.state === StateRole.Leader && l.raw.raft.term === term)
          this.checkHolds(l, e.index, rec, 'is');
      }
      return;
    }
    if (c.term !== e.term || c.key !== key)
      this.fail(
        `state machine safety: node ${n.id} applied ${e.index}/${e.term} (${key}) but ` +
          `${e.index}/${c.term} (${c.key}) was applied before`,
      );
    if (c.digest !== n.sm.digest)
      this.fail(
        `state machine safety: node ${n.id}'s state after applying ${e.index} differs from ` +
          `the committed history (digest ${n.sm.digest} vs ${c.digest})`,
      );
  }

  /** A state machine restored from a snapshot must equal the committed history there. */
  installed(n: SimNode, index: number, digest: number, source: string): void {
    const c = this.committed.get(index);
    if (!c)
      this.fail(`node ${n.id} restored a ${source} snapshot at ${index}, which nobody applied`);
    if (c.digest !== digest)
      this.fail(
        `node ${n.id} restored a ${source} snapshot at ${index} whose state differs from ` +
          `the committed history (digest ${digest} vs ${c.digest})`,
      );
  }

  /** After a restart: every durable entry at or below the durable commit index is the committed one. */
  restarted(n: SimNode): void {
    const s = n.storage;
    const commit = s.hardState.commit;
    for (let i = s.firstIndex(); i <= Math.min(commit, s.lastIndex()); i++) {
      const c = this.committed.get(i);
      if (c && c.term !== s.term(i))
        this.fail(
          `committed entry lost: node ${n.id} restarted with ${i}/${s.term(i)} at or below its ` +
            `commit ${commit}, but ${i}/${c.term} is committed`,
        );
    }
  }

  // ------------------------------------------------------------------ reads

  readIssued(ctx: string): void {
    this.reads.set(ctx, this.maxCommit);
  }

  /** Linearizable reads: a read index covers every write committed before the read was issued. */
  readStates(n: SimNode, rss: ReadState[]): void {
    for (const rs of rss) {
      const ctx = Buffer.from(rs.requestCtx).toString();
      const floor = this.reads.get(ctx);
      if (floor === undefined) this.fail(`node ${n.id} got a read state for unknown read ${ctx}`);
      if (rs.index < floor)
        this.fail(
          `stale read: read ${ctx} was issued when index ${floor} was committed, ` +
            `but node ${n.id} got read index ${rs.index}`,
        );
      this.readsServed++;
    }
  }

  /** Lets the checker find the node behind a leader id (set by the cluster). */
  nodeLookup: ((id: NodeId) => SimNode | undefined) | undefined = undefined;

  fail(msg: string): never {
    throw new SimFailure(msg);
  }
}

/** (index, term) as one number: terms stay far below 2^20, indexes below 2^32. */
function entryKey(index: number, term: number): number {
  return index * 1048576 + term;
}

function payloadKey(e: Entry): string {
  let s = `${e.type}:`;
  for (let i = 0; i < e.data.length; i++) s += String.fromCharCode(e.data[i]!);
  return s;
}

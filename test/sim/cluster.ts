// The simulated cluster: nodes, network and clock, tied together by the event loop.
// One call to step() processes exactly one event (a tick, a message arrival, a disk
// sync, a fault, a client request), lets the affected nodes run their Ready cycles,
// and then checks every safety invariant.
import {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  ReadState,
  SnapshotStatus,
  Snapshot,
  StateRole,
  emptyConfState,
} from '../../src/raft/index.js';
import { Checker, SimFailure } from './invariants.js';
import { LeaseModel } from './lease.js';
import { Network } from './network.js';
import { CompactionPolicy, NodeConfig, NodeHooks, SimNode } from './node.js';
import { SimRng } from './rng.js';
import { Scheduler } from './schedule.js';

/** Simulated time units per tick: message latencies and disk syncs are finer than ticks. */
export const TICK = 10;

export type SimEvent =
  | { kind: 'tick'; id: NodeId }
  | { kind: 'deliver'; msg: Message; fromInc: number }
  | { kind: 'sync'; id: NodeId; inc: number; seq: number }
  | { kind: 'restart'; id: NodeId }
  | { kind: 'destroy'; id: NodeId }
  | { kind: 'reconnect'; from: NodeId; to: NodeId }
  | {
      kind: 'report';
      id: NodeId;
      inc: number;
      to: NodeId;
      what: 'snap-ok' | 'snap-fail' | 'unreachable';
    }
  | { kind: 'chaos' }
  | { kind: 'client' };

export interface ClusterParams {
  raft: NodeConfig;
  compaction: CompactionPolicy | undefined;
  /** Snapshots are built at the applied index whenever asked (else only on config changes). */
  snapshotAlways: boolean;
  /** Disk sync latency range, in time units. */
  syncMin: number;
  syncMax: number;
  /** Chance that a sync is slow (up to slowSync units). */
  slowSyncRate: number;
  slowSync: number;
  /** Nodes take the next Ready before the last one's write is synced (node.ts). */
  pipelined?: boolean;
}

/** Handlers for the events the cluster itself does not own (faults, workload). */
export interface Actors {
  chaos(): void;
  client(): void;
}

export class Cluster {
  readonly sched = new Scheduler<SimEvent>();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly checker = new Checker();
  /** The store's leader lease and its safety property (only with check-quorum). */
  readonly lease: LeaseModel | undefined;
  /** The latest configuration applied anywhere (by log index): what the group now is. */
  latestConf: { index: number; cs: ConfState } = { index: 0, cs: emptyConfState() };
  /** Ids that were members of some applied configuration. */
  private readonly everMember = new Set<NodeId>();
  private readonly toDestroy = new Set<NodeId>();
  /** Removed members whose shutdown is scheduled (onConf). */
  private readonly destroyScheduled = new Set<NodeId>();
  private touched = new Set<SimNode>();
  steps = 0;
  messagesSent = 0;
  actors: Actors | undefined = undefined;
  /** Told of every client write a node applies (the liveness phase waits on these). */
  onWrite: ((value: string, index: number) => void) | undefined = undefined;
  private readonly hooks: NodeHooks;

  constructor(
    readonly rng: SimRng,
    readonly net: Network,
    readonly params: ClusterParams,
    /** Receives the event trace, when tracing. */
    readonly trace: ((line: string) => void) | undefined,
  ) {
    this.checker.nodeLookup = (id) => this.nodes.get(id);
    if (params.raft.checkQuorum ?? true) {
      const electionTick = params.raft.electionTick ?? 10;
      this.lease = new LeaseModel(Math.max(0, electionTick - 2) * TICK, (msg) =>
        this.checker.fail(msg),
      );
    }
    this.hooks = {
      send: (n, msgs) => this.send(n, msgs),
      requestSync: (n, seq = 0) => {
        const slow = this.rng.chance(this.params.slowSyncRate);
        const d = slow
          ? this.rng.int(this.params.syncMax, this.params.slowSync)
          : this.rng.int(this.params.syncMin, this.params.syncMax);
        this.sched.after(d, { kind: 'sync', id: n.id, inc: n.incarnation, seq });
      },
      persisted: (n, ents) => this.checker.persisted(n, ents),
      applied: (n, e) => this.onApplied(n, e),
      installed: (n, snap) => this.onInstalled(n, snap),
      confChanged: (n, index, cs) => {
        this.lease?.confApplied(n);
        this.onConf(index, cs);
      },
      readStates: (n, rss) => this.onReadStates(n, rss),
    };
  }

  log(line: string): void {
    if (this.trace) this.trace(`${this.sched.now} ${line}`);
  }

  // ------------------------------------------------------------------ membership of the simulation

  /** Create a node process. Founding members get `cs`; new members start empty. */
  addNode(id: NodeId, cs: ConfState | undefined): SimNode {
    const n = new SimNode(
      id,
      this.params.raft,
      this.hooks,
      this.rng,
      this.params.compaction,
      this.params.snapshotAlways,
      this.params.pipelined ?? false,
    );
    if (cs) {
      n.bootstrap(cs);
      this.onConf(1, cs);
    }
    this.nodes.set(id, n);
    n.start();
    this.log(`start ${id}${cs ? '' : ' (empty)'}`);
    // Each node has its own tick phase, so ticks of different nodes interleave.
    this.sched.after(this.rng.int(1, TICK), { kind: 'tick', id });
    return n;
  }

  /** Nodes that are running. */
  live(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.up) out.push(n);
    return out;
  }

  /** Running nodes that belong to the latest configuration. */
  liveMembers(): SimNode[] {
    const m = members(this.latestConf.cs);
    return this.live().filter((n) => m.has(n.id));
  }

  /** The leader of the highest term among running nodes, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const r = n.raw?.raft;
      if (r && r.state === StateRole.Leader && (!best || r.term > best.raw!.raft.term)) best = n;
    }
    return best;
  }

  crash(n: SimNode, downFor: number): void {
    this.log(`crash ${n.id}${n.syncing ? ' (losing an unsynced write)' : ''}`);
    n.crash();
    this.sched.after(downFor, { kind: 'restart', id: n.id });
  }

  restart(n: SimNode): void {
    if (n.up || n.destroyed) return;
    n.start();
    this.log(
      `restart ${n.id} (commit=${n.storage.hardState.commit} snap=${n.storage.snapshot().metadata.index} last=${n.storage.lastIndex()})`,
    );
    this.checker.restarted(n);
    // A member that never received a snapshot has no state machine to check yet.
    if (n.sm.index > 0) this.checker.installed(n, n.sm.index, n.sm.digest, 'local');
    this.touch(n);
  }

  touch(n: SimNode): void {
    this.touched.add(n);
  }

  // ------------------------------------------------------------------ the event loop

  /** Process one event. Returns false if nothing is left to do. */
  step(): boolean {
    const ev = this.sched.pop();
    if (!ev) return false;
    this.steps++;
    this.handle(ev);
    this.settle();
    this.checker.afterStep(this.nodes.values(), this.touched);
    this.lease?.afterStep(this.nodes.values(), this.sched.now);
    // Nodes touched between steps (by the liveness driver) are settled in the next step.
    this.touched = new Set();
    return true;
  }

  /** Run Ready cycles of touched nodes until they wait on a sync or have nothing to do. */
  private settle(): void {
    for (const n of this.touched) while (n.pump());
    for (const id of this.toDestroy) {
      const n = this.nodes.get(id);
      if (!n || n.destroyed) continue;
      this.log(`destroy ${id} (removed from the configuration)`);
      n.crash();
      n.destroyed = true;
    }
    this.toDestroy.clear();
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        const n = this.nodes.get(ev.id);
        if (!n) return;
        this.sched.after(TICK, ev);
        if (!n.raw) return;
        n.raw.tick();
        this.touch(n);
        return;
      }
      case 'deliver':
        this.deliver(ev.msg, ev.fromInc);
        return;
      case 'sync': {
        const n = this.nodes.get(ev.id);
        if (!n) return;
        if (this.trace)
          this.log(`sync ${ev.id}${ev.inc === n.incarnation && n.up ? '' : ' (stale)'}`);
        n.sync(ev.inc, ev.seq);
        this.touch(n);
        return;
      }
      case 'restart': {
        const n = this.nodes.get(ev.id);
        if (n) this.restart(n);
        return;
      }
      case 'reconnect':
        this.net.reconnect(ev.from, ev.to);
        this.log(`reconnect ${ev.from}>${ev.to}`);
        return;
      case 'report': {
        const n = this.nodes.get(ev.id);
        if (!n?.raw || n.incarnation !== ev.inc) return;
        this.log(`report ${ev.what} ${ev.to} to ${ev.id}`);
        if (ev.what === 'unreachable') n.raw.reportUnreachable(ev.to);
        else
          n.raw.reportSnapshot(
            ev.to,
            ev.what === 'snap-ok' ? SnapshotStatus.Finish : SnapshotStatus.Failure,
          );
        this.touch(n);
        return;
      }
      case 'destroy': {
        const m = members(this.latestConf.cs);
        if (m.has(ev.id)) {
          this.destroyScheduled.delete(ev.id);
          return;
        }
        // Some member has not applied the change yet: it may still count this node in a
        // joint configuration, and need its vote to elect a leader that commits the rest.
        const behind = [...m].some(
          (id) => (this.nodes.get(id)?.sm.index ?? 0) < this.latestConf.index,
        );
        if (behind) {
          this.sched.after(this.removalGrace(), ev);
          return;
        }
        this.destroyScheduled.delete(ev.id);
        this.toDestroy.add(ev.id);
        return;
      }
      case 'chaos':
        this.actors?.chaos();
        return;
      case 'client':
        this.actors?.client();
        return;
    }
  }

  // ------------------------------------------------------------------ network

  private send(from: SimNode, msgs: Message[]): void {
    for (const m of msgs) {
      this.messagesSent++;
      if (this.net.blocked(m.from, m.to)) {
        this.lost(m, from.incarnation, 'cut');
        // The transport notices a broken connection (as TiKV's raft client does).
        if (this.rng.chance(0.5))
          this.sched.after(0, {
            kind: 'report',
            id: m.from,
            inc: from.incarnation,
            to: m.to,
            what: 'unreachable',
          });
        continue;
      }
      const copies = this.net.plan(this.rng, m);
      if (copies.length === 0) this.lost(m, from.incarnation, 'dropped');
      for (const d of copies)
        this.sched.after(d, { kind: 'deliver', msg: m, fromInc: from.incarnation });
    }
  }

  private lost(m: Message, fromInc: number, why: string): void {
    if (this.trace) this.log(`${why} ${describe(m)}`);
    // The leader learns that the snapshot did not make it and may try again.
    if (m.type === MessageType.Snap)
      this.sched.after(0, {
        kind: 'report',
        id: m.from,
        inc: fromInc,
        to: m.to,
        what: 'snap-fail',
      });
  }

  private deliver(m: Message, fromInc: number): void {
    const to = this.nodes.get(m.to);
    if (!to?.raw || this.net.blocked(m.from, m.to)) {
      this.lost(m, fromInc, to?.raw ? 'cut in flight' : 'to a down node');
      return;
    }
    if (this.trace) this.log(`deliver ${describe(m)}`);
    // A real transport hands the receiver its own copy; the core may keep or mutate it.
    to.raw.step(cloneMessage(m));
    this.touch(to);
    if (m.type === MessageType.Snap)
      this.sched.after(0, { kind: 'report', id: m.from, inc: fromInc, to: m.to, what: 'snap-ok' });
  }

  // ------------------------------------------------------------------ node callbacks

  private onApplied(n: SimNode, e: Entry): void {
    this.checker.applied(n, e);
    if (this.onWrite && e.type === EntryType.Normal && e.data.length > 0)
      this.onWrite(Buffer.from(e.data).toString(), e.index);
  }

  private onInstalled(n: SimNode, snap: Snapshot): void {
    this.log(`install snapshot ${snap.metadata.index}/${snap.metadata.term} on ${n.id}`);
    this.checker.installed(n, snap.metadata.index, n.sm.digest, 'received');
    this.onConf(snap.metadata.index, snap.metadata.confState);
  }

  /**
   * Track the group's configuration. A configuration applied anywhere is committed, so
   * once the latest one leaves a former member out, that member is shut down for good
   * (as TiKV destroys a removed peer); ids are never reused. Not at once: a leader that
   * removed itself steps down, and may have been the only node that knew the change
   * committed: the others, still in the joint configuration that counts it, need its
   * vote to elect a leader that commits and applies the change (TiKV never removes a
   * leader; the core allows it, as etcd-io/raft does). So a removed node keeps running
   * until every member has applied the configuration that removed it, as etcd's server
   * stops a removed member with a delay (stopWithDelay).
   */
  private onConf(index: number, cs: ConfState): void {
    if (index <= this.latestConf.index) return;
    this.latestConf = { index, cs };
    const m = members(cs);
    for (const id of m) {
      this.everMember.add(id);
      // A change proposed before a node's removal can commit after it and add the node
      // back. It then comes back from its durable state, like a node that was down.
      const n = this.nodes.get(id);
      if (n?.destroyed) {
        n.destroyed = false;
        this.toDestroy.delete(id);
        this.sched.after(0, { kind: 'restart', id });
        this.log(`node ${id} is a member again`);
      }
    }
    for (const id of this.everMember) {
      if (m.has(id) || this.destroyScheduled.has(id) || this.nodes.get(id)?.destroyed) continue;
      this.destroyScheduled.add(id);
      this.sched.after(this.removalGrace(), { kind: 'destroy', id });
    }
    this.log(`config @${index}: ${describeConf(cs)}`);
  }

  /** How often a removed node checks whether it may shut down: an election timeout. */
  private removalGrace(): number {
    return (this.params.raft.electionTick ?? 10) * TICK;
  }

  private onReadStates(n: SimNode, rss: ReadState[]): void {
    if (this.trace)
      for (const rs of rss)
        this.log(`read state on ${n.id}: ${Buffer.from(rs.requestCtx).toString()} @${rs.index}`);
    this.checker.readStates(n, rss);
    this.lease?.readStates(n, rss);
  }

  /** The first line of a failure report: where the run stood. */
  where(): string {
    const states = [...this.nodes.values()].map((n) => {
      if (n.destroyed) return `${n.id}:destroyed`;
      const r = n.raw?.raft;
      if (!r) return `${n.id}:down`;
      return `${n.id}:${r.state[0]}t${r.term}c${r.raftLog.committed}a${r.raftLog.applied}l${r.raftLog.lastIndex()}`;
    });
    return `time=${this.sched.now} step=${this.steps} nodes=[${states.join(' ')}] ${this.net.describe()}`;
  }
}

export function members(cs: ConfState): Set<NodeId> {
  return new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
}

export function describeConf(cs: ConfState): string {
  let s = `voters=(${cs.voters.join(' ')})`;
  if (cs.votersOutgoing.length) s += `&&(${cs.votersOutgoing.join(' ')})`;
  if (cs.learners.length) s += ` learners=(${cs.learners.join(' ')})`;
  if (cs.learnersNext.length) s += ` learners_next=(${cs.learnersNext.join(' ')})`;
  if (cs.autoLeave) s += ' autoleave';
  return s;
}

export function describe(m: Message): string {
  let s = `${m.type} ${m.from}->${m.to} t${m.term}`;
  if (
    m.type === MessageType.App ||
    m.type === MessageType.AppResp ||
    m.type === MessageType.Vote ||
    m.type === MessageType.PreVote
  )
    s += ` i${m.index} lt${m.logTerm}`;
  if (m.entries.length) s += ` n${m.entries.length}`;
  if (m.commit) s += ` c${m.commit}`;
  if (m.reject) s += ` reject(hint ${m.rejectHint})`;
  if (m.snapshot) s += ` snap@${m.snapshot.metadata.index}/${m.snapshot.metadata.term}`;
  return s;
}

function cloneMessage(m: Message): Message {
  return { ...m, entries: m.entries.map((e) => ({ ...e })) };
}

export { SimFailure };

// The chaos schedule: at random moments one fault is injected, chosen from a per-seed
// mix so that some seeds hammer the network, others crash nodes or churn membership.
// Partitions and lossy periods do not heal on a timer of their own: a later 'heal'
// fault (or the liveness phase) ends them, so faults overlap and compound.
import {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  NodeId,
  ProposalDroppedError,
  StateRole,
  UncommittedSizeExceededError,
} from '../../src/raft/index.js';
import { Cluster, TICK, describeConf } from './cluster.js';

export interface FaultMix {
  partition: number;
  oneWay: number;
  isolateLeader: number;
  heal: number;
  lossy: number;
  crash: number;
  crashLeader: number;
  bounce: number;
  confChange: number;
  transfer: number;
}

export class Chaos {
  private nextId: number;
  created = 0;
  counts: Record<string, number> = {};

  constructor(
    private readonly c: Cluster,
    private readonly mix: FaultMix,
    firstFreeId: NodeId,
    /** How many nodes membership changes may create over the run. */
    private readonly maxNewNodes: number,
  ) {
    this.nextId = firstFreeId;
  }

  act(): void {
    const kind = this.c.rng.weighted(this.mix);
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this[kind]();
  }

  private ids(): NodeId[] {
    return this.c.live().map((n) => n.id);
  }

  /** Split the running nodes into two random non-empty sides. */
  private partition(): void {
    const ids = this.ids();
    if (ids.length < 2) return;
    const a: NodeId[] = [];
    const b: NodeId[] = [];
    for (const id of ids) (this.c.rng.chance(0.5) ? a : b).push(id);
    if (a.length === 0) a.push(b.pop()!);
    if (b.length === 0) b.push(a.pop()!);
    this.c.net.partition(a, b);
    this.c.log(`fault: partition (${a.join(' ')}) | (${b.join(' ')})`);
  }

  /** Cut a few links in one direction only (a node that can send but not hear, etc.). */
  private oneWay(): void {
    const ids = this.ids();
    if (ids.length < 2) return;
    const k = this.c.rng.int(1, 3);
    const cuts: string[] = [];
    for (let i = 0; i < k; i++) {
      const from = this.c.rng.pick(ids);
      const to = this.c.rng.pick(ids.filter((x) => x !== from));
      this.c.net.cutOneWay(from, to);
      cuts.push(`${from}>${to}`);
    }
    this.c.log(`fault: one-way cuts ${cuts.join(' ')}`);
  }

  private isolateLeader(): void {
    const l = this.c.leader();
    if (!l) return;
    this.c.net.partition(
      [l.id],
      [...this.c.nodes.keys()].filter((id) => id !== l.id),
    );
    this.c.log(`fault: isolate leader ${l.id}`);
  }

  private heal(): void {
    this.c.net.healLinks();
    this.c.net.calm();
    this.c.log('fault: heal network');
  }

  /** Change loss, duplication and delay for the whole network. */
  private lossy(): void {
    const rng = this.c.rng;
    const net = this.c.net;
    net.dropRate = rng.float() * 0.3;
    net.dupRate = rng.float() * 0.15;
    net.delayRate = rng.float() * 0.3;
    // Now and then longer than an election timeout: a message can outlive the state it
    // was sent in (a TimeoutNow its transfer, a vote its election).
    net.maxExtraDelay = rng.int(1, (rng.chance(0.3) ? 25 : 8) * TICK);
    this.c.log(`fault: lossy network ${net.describe()}`);
  }

  private crash(): void {
    const live = this.c.live();
    if (live.length === 0) return;
    this.c.crash(this.c.rng.pick(live), this.downTime());
  }

  private crashLeader(): void {
    const l = this.c.leader();
    if (l) this.c.crash(l, this.downTime());
  }

  /**
   * Restart a follower at once (a supervisor restarting a killed process): it comes back
   * within a tick or two, well inside the lease of the leader it was acknowledging, with
   * no memory of having heard from it. The leader's connection to it takes another tick
   * or two to come back (reconnect backoff), so other nodes may reach it first.
   */
  private bounce(): void {
    const followers = this.c.live().filter((n) => n.raw!.raft.state !== StateRole.Leader);
    if (followers.length === 0) return;
    const f = this.c.rng.pick(followers);
    const down = this.c.rng.int(0, 2 * TICK);
    this.c.crash(f, down);
    const l = this.c.leader();
    if (!l) return;
    this.c.net.disconnect(l.id, f.id);
    this.c.sched.after(down + this.c.rng.int(1, 2 * TICK), {
      kind: 'reconnect',
      from: l.id,
      to: f.id,
    });
  }

  private downTime(): number {
    return this.c.rng.int(1, 40) * TICK + this.c.rng.int(0, TICK);
  }

  private transfer(): void {
    const l = this.c.leader();
    const live = this.c.live();
    if (!l || live.length === 0) return;
    const voters = this.c.latestConf.cs.voters.filter((id) => id !== l.id);
    if (voters.length === 0) return;
    const target = this.c.rng.pick(voters);
    // Through a random node: followers forward the request to their leader.
    const via = this.c.rng.pick(live);
    this.c.log(`fault: transfer leadership to ${target} via ${via.id}`);
    via.raw!.transferLeader(target);
    this.c.touch(via);
  }

  /**
   * Propose a membership change based on the latest applied configuration: add a
   * learner or voter (a fresh node that starts empty), promote, demote or remove, as a
   * simple change or a joint one (left automatically). The leader refuses changes that
   * are invalid by the time they reach it.
   */
  private confChange(): void {
    const rng = this.c.rng;
    const cs = this.c.latestConf.cs;
    const live = this.c.liveMembers();
    if (live.length === 0) return;
    const voters = cs.voters;
    const learners = cs.learners;
    const fresh = (): NodeId | undefined => {
      if (this.created >= this.maxNewNodes) return undefined;
      this.created++;
      const id = this.nextId++;
      this.c.addNode(id, undefined);
      return id;
    };
    const options: (() => ConfChangeSingle[] | undefined)[] = [
      () => {
        const id = fresh();
        return id ? [{ type: ConfChangeType.AddLearnerNode, nodeId: id }] : undefined;
      },
      () => {
        const id = fresh();
        return id ? [{ type: ConfChangeType.AddNode, nodeId: id }] : undefined;
      },
      () =>
        learners.length
          ? [{ type: ConfChangeType.AddNode, nodeId: rng.pick(learners) }]
          : undefined,
      () =>
        voters.length > 2
          ? [{ type: ConfChangeType.RemoveNode, nodeId: rng.pick(voters) }]
          : learners.length
            ? [{ type: ConfChangeType.RemoveNode, nodeId: rng.pick(learners) }]
            : undefined,
      () =>
        voters.length > 2
          ? [{ type: ConfChangeType.AddLearnerNode, nodeId: rng.pick(voters) }]
          : undefined,
      () => {
        // Replace a voter: two voter changes at once need the joint configuration.
        if (voters.length < 2) return undefined;
        const id = fresh();
        return id
          ? [
              { type: ConfChangeType.AddNode, nodeId: id },
              { type: ConfChangeType.RemoveNode, nodeId: rng.pick(voters) },
            ]
          : undefined;
      },
    ];
    const changes = rng.pick(options)();
    if (!changes) return;
    const cc: ConfChange = {
      transition: rng.chance(0.3) ? ConfChangeTransition.JointImplicit : ConfChangeTransition.Auto,
      changes,
    };
    const via = rng.pick(live);
    const what = `${cc.transition} ${changes.map((x) => `${x.type}(${x.nodeId})`).join(' ')}`;
    // The leader refuses to remove or demote itself, as the store does (TiKV's
    // check_conf_change): once it applied the change it steps down, and if the others
    // still count it in a joint configuration (changes apply on apply, not on append)
    // while its log is longer than theirs, its refusal of their votes keeps them from
    // electing anyone. Leadership moving to the node before the change commits can
    // still get there; that is rare and not what this fault is about.
    const lead = this.c.leader();
    if (lead && changes.some((x) => x.nodeId === lead.id && x.type !== ConfChangeType.AddNode)) {
      this.c.log(`fault: conf change ${what} skipped: it removes or demotes leader ${lead.id}`);
      return;
    }
    this.c.touch(via);
    try {
      via.raw!.proposeConfChange(cc);
      this.c.log(`fault: conf change ${what} via ${via.id} (config ${describeConf(cs)})`);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError || e instanceof UncommittedSizeExceededError))
        throw e;
      this.c.log(`fault: conf change ${what} via ${via.id} refused: ${e.message}`);
    }
  }
}

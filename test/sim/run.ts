// One simulation run, a pure function of its seed:
//   1. the seed picks the cluster (3–7 nodes), the Raft options, the disk and network
//      timing, the compaction policy and the fault mix;
//   2. chaos phase: client traffic under overlapping faults, invariants checked after
//      every step;
//   3. liveness phase: every fault is healed and crashed nodes restart; a leader must
//      emerge, new writes must commit, and every member must catch up, each within a
//      stated bound of ticks.
import { ConfState, ReadOnlyOption, emptyConfState } from '../../src/raft/index.js';
import { Cluster, ClusterParams, TICK, describeConf } from './cluster.js';
import { Chaos, FaultMix } from './faults.js';
import { SimFailure } from './invariants.js';
import { Network } from './network.js';
import { SimRng } from './rng.js';
import { Workload } from './workload.js';

/**
 * Liveness bounds, in election timeouts (electionTick ticks each) after the heal. The
 * leader bound is generous because without pre-vote a voter whose log is behind keeps
 * starting elections it cannot win, and each one resets the other voters' timers: with
 * two voters, each round elects someone with probability only ~0.45.
 */
export const LEADER_BOUND = 50;
export const COMMIT_BOUND = 10;
export const CATCHUP_BOUND = 20;
/** Writes that must commit in the liveness phase. */
const LIVENESS_WRITES = 5;

export const DEFAULT_CHAOS_TICKS = 1000;

export interface RunOptions {
  seed: number;
  /** Receives every event of the run, in order. */
  trace?: (line: string) => void;
  /** Length of the chaos phase, in ticks. */
  chaosTicks?: number;
}

export interface RunResult {
  seed: number;
  ok: boolean;
  /** The failure, with where the run stood and how to replay it. */
  error?: string;
  steps: number;
  summary: string;
}

export function replayCommand(seed: number): string {
  return `npm run sim -- --seed ${seed} --verbose`;
}

interface Params {
  nodes: number;
  learners: number;
  electionTick: number;
  cluster: ClusterParams;
  maxLatency: number;
  mix: FaultMix;
  readRate: number;
  chaosGap: number;
  clientGap: number;
  maxNewNodes: number;
}

/** Everything about a run that is fixed up front, drawn from the seed. */
function deriveParams(rng: SimRng): Params {
  const nodes = rng.int(3, 7);
  const electionTick = rng.int(8, 15);
  const heartbeatTick = rng.int(1, 3);
  // Fault weights: each kind is on or off per seed, with a random weight when on.
  const w = (p: number) => (rng.chance(p) ? rng.int(1, 10) : 0);
  const mix: FaultMix = {
    partition: w(0.6),
    oneWay: w(0.4),
    isolateLeader: w(0.5),
    heal: rng.int(3, 10),
    lossy: w(0.6),
    crash: w(0.6),
    crashLeader: w(0.4),
    bounce: w(0.5),
    confChange: w(0.6),
    transfer: w(0.5),
  };
  return {
    nodes,
    learners: nodes > 3 && rng.chance(0.3) ? 1 : 0,
    electionTick,
    cluster: {
      raft: {
        electionTick,
        heartbeatTick,
        preVote: rng.chance(0.75),
        checkQuorum: rng.chance(0.75),
        readOnlyOption: ReadOnlyOption.Safe,
        maxSizePerMsg: rng.pick([1 << 20, 256, 64]),
        maxInflightMsgs: rng.pick([256, 8, 2]),
        maxUncommittedEntriesSize: rng.pick([0, 0, 0, 512]),
        maxCommittedSizePerReady: rng.pick([64 << 20, 128]),
      },
      compaction: rng.chance(0.7) ? { every: rng.int(3, 40), keep: rng.int(0, 5) } : undefined,
      snapshotAlways: rng.chance(0.5),
      syncMin: 1,
      syncMax: rng.int(2, 8),
      slowSyncRate: rng.pick([0, 0.02, 0.1]),
      slowSync: rng.int(1, 5) * TICK,
      pipelined: rng.chance(0.5),
    },
    maxLatency: rng.int(2, 8),
    mix,
    // Read-only seeds keep every log equal for long stretches: then only the followers'
    // leases stand between a cut-off node and an election.
    readRate: rng.pick([0, 0.2, 0.4, 1]),
    chaosGap: rng.int(2, 10) * TICK,
    clientGap: rng.int(3, 20),
    maxNewNodes: rng.int(0, 6),
  };
}

function describeParams(p: Params): string {
  const r = p.cluster.raft;
  const mix = Object.entries(p.mix)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  return (
    `nodes=${p.nodes} learners=${p.learners} election=${r.electionTick} heartbeat=${r.heartbeatTick} ` +
    `prevote=${r.preVote} checkquorum=${r.checkQuorum} maxmsg=${r.maxSizePerMsg} inflight=${r.maxInflightMsgs} ` +
    `uncommitted=${r.maxUncommittedEntriesSize} compaction=${p.cluster.compaction ? `${p.cluster.compaction.every}/${p.cluster.compaction.keep}` : 'off'} ` +
    `sync=${p.cluster.syncMin}-${p.cluster.syncMax}${p.cluster.pipelined ? ' pipelined' : ''} latency=1-${p.maxLatency} reads=${p.readRate} mix={${mix}}`
  );
}

export function runSeed(o: RunOptions): RunResult {
  const seed = o.seed >>> 0;
  const rng = new SimRng(seed);
  const p = deriveParams(rng);
  const c = new Cluster(rng, new Network(1, p.maxLatency), p.cluster, o.trace);
  c.log(`seed ${seed}: ${describeParams(p)}`);

  const ids = Array.from({ length: p.nodes }, (_, i) => i + 1);
  const cs: ConfState = {
    ...emptyConfState(),
    voters: ids.slice(0, p.nodes - p.learners),
    learners: ids.slice(p.nodes - p.learners),
  };
  for (const id of ids) c.addNode(id, cs);

  const workload = new Workload(c, p.readRate);
  const chaos = new Chaos(c, p.mix, p.nodes + 1, p.maxNewNodes);
  let chaotic = true;
  c.actors = {
    chaos: () => {
      if (!chaotic) return;
      chaos.act();
      c.sched.after(rng.int(1, p.chaosGap), { kind: 'chaos' });
    },
    client: () => {
      if (!chaotic) return;
      workload.request();
      c.sched.after(rng.int(1, p.clientGap), { kind: 'client' });
    },
  };
  c.sched.after(rng.int(1, p.chaosGap), { kind: 'chaos' });
  c.sched.after(rng.int(1, p.clientGap), { kind: 'client' });

  const stats = () =>
    `steps=${c.steps} time=${c.sched.now} terms=${c.checker.leaders.size} committed=${c.checker.committedCount} ` +
    `proposals=${workload.proposals} refused=${workload.refused} reads=${workload.reads}/${c.checker.readsServed} ` +
    `msgs=${c.messagesSent} lease-renewals=${c.lease?.renewals ?? 'off'} new-nodes=${chaos.created} faults=${JSON.stringify(chaos.counts)}`;

  try {
    const chaosEnd = (o.chaosTicks ?? DEFAULT_CHAOS_TICKS) * TICK;
    while (c.sched.now < chaosEnd) c.step();
    chaotic = false;
    liveness(c, workload, p.electionTick);
  } catch (e) {
    const kind = e instanceof SimFailure ? 'invariant violated' : 'exception';
    const msg =
      e instanceof Error
        ? e instanceof SimFailure
          ? e.message
          : (e.stack ?? e.message)
        : String(e);
    return {
      seed,
      ok: false,
      steps: c.steps,
      summary: stats(),
      error:
        `seed ${seed}: ${kind}: ${msg}\n  at ${c.where()}\n  params: ${describeParams(p)}\n` +
        `  replay: ${replayCommand(seed)}`,
    };
  }
  return { seed, ok: true, steps: c.steps, summary: stats() };
}

function maxCommit(c: Cluster): number {
  let m = 0;
  for (const n of c.liveMembers()) m = Math.max(m, n.raw!.raft.raftLog.committed);
  return m;
}

/** Heal everything, then demand progress within the stated bounds. */
function liveness(c: Cluster, workload: Workload, electionTick: number): void {
  const timeout = electionTick * TICK;
  c.net.healLinks();
  c.net.calm();
  for (const n of c.nodes.values()) if (!n.up && !n.destroyed) c.restart(n);
  c.log(`liveness: network healed, all nodes up; config ${describeConf(c.latestConf.cs)}`);

  const runUntil = (what: string, bound: number, done: () => boolean) => {
    const deadline = c.sched.now + bound * timeout;
    while (!done()) {
      if (c.sched.now > deadline)
        throw new SimFailure(
          `liveness: ${what} did not happen within ${bound} election timeouts ` +
            `(${bound * electionTick} ticks) after the heal`,
        );
      c.step();
    }
  };

  // A leader that every running member follows.
  runUntil('a leader followed by all members', LEADER_BOUND, () => {
    const l = c.leader();
    if (!l) return false;
    const t = l.raw!.raft.term;
    return c.liveMembers().every((n) => n.raw!.raft.lead === l.id && n.raw!.raft.term === t);
  });
  c.log(`liveness: leader ${c.leader()!.id}`);

  // The chaos phase may leave a backlog of hundreds of uncommitted entries. With tiny
  // messages and windows, and a network that still reorders (every reordered append is
  // rejected and drops the follower back to probing), draining it legitimately takes
  // many round trips, so demand steady progress rather than a bound on the total: the
  // commit index must move at least once per LEADER_BOUND election timeouts.
  let best = maxCommit(c);
  let since = c.sched.now;
  for (;;) {
    const l = c.leader();
    if (l && l.raw!.raft.raftLog.committed >= l.raw!.raft.raftLog.lastIndex()) break;
    const m = maxCommit(c);
    if (m > best) {
      best = m;
      since = c.sched.now;
    } else if (c.sched.now > since + LEADER_BOUND * timeout) {
      throw new SimFailure(
        `liveness: the commit index stalled at ${best} for ${LEADER_BOUND} election timeouts ` +
          `while the backlog drained`,
      );
    }
    c.step();
  }
  c.log(`liveness: backlog committed up to ${best}`);

  // New writes commit, one after the other. A write can still be lost (a forwarded
  // proposal dropped during a leadership change), so the client retries.
  const committedAt = new Map<string, number>();
  c.onWrite = (v, index) => {
    if (!committedAt.has(v)) committedAt.set(v, index);
  };
  let lastIndex = 0;
  for (let k = 0; k < LIVENESS_WRITES; k++) {
    const v = `live${k}`;
    let nextTry = c.sched.now;
    runUntil(`commit of ${v}`, COMMIT_BOUND, () => {
      if (committedAt.has(v)) return true;
      if (c.sched.now >= nextTry) {
        const via = c.rng.pick(c.liveMembers());
        // Retry after a refusal on the next tick, after a silent loss after a while.
        nextTry = c.sched.now + (workload.write(via, v) ? 3 * timeout : TICK);
        c.touch(via);
      }
      return false;
    });
    lastIndex = Math.max(lastIndex, committedAt.get(v)!);
  }

  // Every member catches up (by appends or a snapshot) to the last write.
  runUntil(`every member applying index ${lastIndex}`, CATCHUP_BOUND, () =>
    c.liveMembers().every((n) => n.sm.index >= lastIndex),
  );
  c.log(`liveness: all ${c.liveMembers().length} members applied ${lastIndex}`);
}

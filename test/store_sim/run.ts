// One seed of the store simulation: build 3 (sometimes 5) real stores on the simulated
// world, bootstrap one or two Regions, run clients through a chaos phase of network faults,
// crashes, process pauses, disk errors, Region splits and merges, membership changes and
// leader transfers, then heal and demand progress. Every event is
// followed by the invariant checks; at the end the RawKV history must be linearizable.
// Every choice comes from the seed, so `--seed S` replays a failure exactly.
import { checkKvHistory, formatKvResult } from '../check/linearizability.js';
import { validateKvHistory } from '../check/history.js';
import { ConfChangeType } from '../../src/raft/index.js';
import { Peer, PeerRole, keyInRegion } from '../../src/region/meta.js';
import type { PeerChange } from '../../src/store/conf_change.js';
import { MAX_TRANSFER_LAG, isStepRefusal } from '../../src/store/operator_executor.js';
import { CALM_NET, SimCluster, SimStore } from './cluster.js';
import { InvariantChecker } from './invariants.js';
import { TxnWorkload } from './txn_workload.js';
import { Workload } from './workload.js';
import { SimWorld, WORLD } from './world.js';

export const DEFAULT_CHAOS_MS = 3_000;
export const DEFAULT_HEAL_MS = 2_000;
/** After healing, how long (virtual ms) the final read of every list may take. */
const FINAL_READ_MS = 2_000;

export interface RunOptions {
  seed: number;
  /** Virtual ms of the chaos phase. */
  chaosMs?: number;
  /** Virtual ms after healing in which every Region must serve clients again. */
  healMs?: number;
  trace?: (line: string) => void;
}

export interface RunResult {
  seed: number;
  ok: boolean;
  error?: string;
  summary: string;
  steps: number;
  /** Merges asked, committed and rolled back (a batch reports the totals). */
  merges?: { asked: number; committed: number; rolledBack: number };
}

export function replayCommand(seed: number, chaosMs: number, healMs: number): string {
  const c = chaosMs === DEFAULT_CHAOS_MS ? '' : ` --chaos-ms ${chaosMs}`;
  const h = healMs === DEFAULT_HEAL_MS ? '' : ` --heal-ms ${healMs}`;
  return `npm run sim:store -- --seed ${seed}${c}${h} --verbose`;
}

/** Let the promise callbacks of the event (RawKv answers, client code) run before the next. */
async function settle(): Promise<void> {
  for (let i = 0; i < 12; i++) await undefined;
}

export async function runSeed(opts: RunOptions): Promise<RunResult> {
  const chaosMs = opts.chaosMs ?? DEFAULT_CHAOS_MS;
  const healMs = opts.healMs ?? DEFAULT_HEAL_MS;
  const world = new SimWorld(opts.seed, opts.trace);
  const rng = world.rng;
  const ids = rng.chance(0.2) ? [1, 2, 3, 4, 5] : [1, 2, 3];
  const cluster = new SimCluster(world, ids);
  const keys = ['k0', 'k1', 'k2', 'k3'];
  const checker = new InvariantChecker(cluster, keys);
  const faults: string[] = [];
  const note = (f: string) => {
    faults.push(`${world.now.toFixed(1)}ms ${f}`);
    opts.trace?.(`${world.now.toFixed(3)} FAULT ${f}`);
  };
  let workload: Workload | undefined;
  let txns: TxnWorkload | undefined;
  try {
    for (const s of cluster.stores.values()) s.open();
    const regions = rng.chance(0.5)
      ? [cluster.bootstrapRegion(1, '', '')]
      : [cluster.bootstrapRegion(1, '', 'k2'), cluster.bootstrapRegion(2, 'k2', '')];
    const clients = rng.int(2, 4);
    workload = new Workload(world, cluster, {
      clients,
      // Some clients are the SDK's RawClient (routing, retries, exactly-once sessions),
      // the others send single requests to a store they pick.
      sdkClients: rng.int(1, clients - 1),
      keys,
      regions,
    });
    workload.start();
    // Transactions over lists next to the RawKV keys: 'k1/list' lies in the Region that
    // starts at k1 after a split there, so transactions span the Regions splits make.
    txns = new TxnWorkload(world, cluster, {
      clients: rng.int(1, 2),
      keys: keys.map((k) => `${k}/list`),
    });
    txns.start();
    const faultSchedule = new FaultSchedule(
      world,
      cluster,
      note,
      keys.map((k) => Buffer.from(k)),
    );
    faultSchedule.start(chaosMs);

    const end = chaosMs + healMs;
    let healed = false;
    while (world.step(end)) {
      checker.check(world.now);
      if (cluster.fatal) throw cluster.fatal;
      await settle();
      if (!healed && world.now >= chaosMs) {
        healed = true;
        faultSchedule.healAll();
        workload.markHealed();
        note('heal: network calm, every store up and running');
      }
    }
    // Liveness once healed: every Region (as split by now) has a leader and served
    // clients again.
    const finalRegions = cluster.newestRegions();
    for (const r of finalRegions) {
      if (![...cluster.stores.values()].some((s) => s.isLeaderOf(r.id))) {
        throw new Error(`liveness: region ${r.id} has no leader ${healMs} ms after healing`);
      }
      if ((workload.okSinceHeal.get(r.id) ?? 0) === 0) {
        throw new Error(`liveness: region ${r.id} served no client call after healing`);
      }
    }
    // Transactions: no new ones; then one transaction reading every list must commit
    // while the network stays calm.
    txns.stop();
    void txns.finalRead();
    const readBy = world.now + FINAL_READ_MS;
    while (!txns.finalReadDone && world.step(readBy)) {
      checker.check(world.now);
      if (cluster.fatal) throw cluster.fatal;
      await settle();
    }
    if (!txns.finalReadDone) {
      throw new Error(`liveness: no transaction could read every list in ${FINAL_READ_MS} ms`);
    }
    const txnSummary = txns.verify();
    checker.checkFinal();
    workload.stop();
    validateKvHistory(workload.history);
    const lin = checkKvHistory(workload.history, { timeoutMs: 20_000 });
    if (lin.verdict !== 'ok') {
      throw new Error(
        `RawKV history is not linearizable (${lin.verdict}):\n${formatKvResult(lin)}`,
      );
    }
    const merges = {
      asked: faultSchedule.mergesAsked(),
      committed: cluster.mergesCommitted.size,
      rolledBack: cluster.mergesRolledBack.size,
    };
    const summary =
      `${ids.length} stores, ${regions.length} regions, ${faultSchedule.splitsApplied()} splits, ${merges.asked} merges asked / ${merges.committed} committed / ${merges.rolledBack} rolled back (${finalRegions.length} regions at the end), ${faultSchedule.memberStepsProposed()} membership steps, ${world.steps} events, ` +
      `${workload.succeeded} ok / ${workload.definiteFailures} refused / ${workload.indeterminate} indeterminate calls, ` +
      `${faults.length} faults, ${checker.leaderTerms} leader terms, ${cluster.snapshotsSent} snapshots, ` +
      `${cluster.diskFaults} disk faults, ${cluster.droppedMessageErrors.length} messages a store failed to step; ` +
      `transactions: ${txns.count('ok')} ok / ${txns.count('fail')} failed / ${txns.count('info')} unknown, ${txnSummary}`;
    return { seed: opts.seed, ok: true, summary, steps: world.steps, merges };
  } catch (e) {
    const err = e as Error;
    const error =
      `seed ${opts.seed} failed at ${world.now.toFixed(3)} ms (event ${world.steps}): ${err.message}\n` +
      `faults so far:\n  ${faults.slice(-15).join('\n  ')}\n` +
      `replay: ${replayCommand(opts.seed, chaosMs, healMs)}`;
    return { seed: opts.seed, ok: false, error, summary: '', steps: world.steps };
  } finally {
    workload?.stop();
    txns?.stop();
    cluster.close();
  }
}

/** Faults drawn from the seed during the chaos phase; all undone by healAll(). */
class FaultSchedule {
  private chaosEnd = 0;
  private applied = 0;
  private merges = 0;
  private memberSteps = 0;

  constructor(
    private readonly world: SimWorld,
    private readonly cluster: SimCluster,
    private readonly note: (f: string) => void,
    /** The workload's keys: split points are drawn from them, so every Region keeps one. */
    private readonly keys: Buffer[],
  ) {}

  start(chaosMs: number): void {
    this.chaosEnd = chaosMs;
    this.plan();
    // Short runs draw few faults: most seeds also split once early, besides the splits the
    // fault schedule draws, so that splits meet the other faults in every run length.
    // A Region has no leader yet in the first election timeout: try again until one leads.
    if (this.world.rng.chance(0.6)) {
      const attempt = () => {
        if (!this.split() && this.world.now < this.chaosEnd) {
          this.world.after(20, WORLD, 'split', attempt);
        }
      };
      this.world.after(this.world.rng.float() * chaosMs * 0.5, WORLD, 'split', attempt);
    }
  }

  private plan(): void {
    const w = this.world;
    const at = w.now + 30 + w.rng.float() * 250;
    if (at >= this.chaosEnd) return;
    w.at(at, WORLD, 'fault', () => {
      this.inject();
      this.plan();
    });
  }

  private stores(): SimStore[] {
    return [...this.cluster.stores.values()];
  }

  private leaderOrAny(): SimStore {
    const rng = this.world.rng;
    const leaders = this.stores().filter(
      (s) => s.up && [...s.store.peers.values()].some((p) => p.isLeader()),
    );
    return leaders.length > 0 && rng.chance(0.7) ? rng.pick(leaders) : rng.pick(this.stores());
  }

  private inject(): void {
    const w = this.world;
    const rng = w.rng;
    const all = this.stores();
    const down = all.filter((s) => !s.up).length;
    const maxDown = Math.floor((all.length - 1) / 2);
    const kind = rng.weighted({
      partition: 3,
      net: 3,
      crash: 2,
      pause: 3,
      disk: 1,
      calm: 1,
      split: 2,
      merge: 2,
      member: 3,
    });
    switch (kind) {
      case 'partition': {
        const isolated = rng.chance(0.5)
          ? [this.leaderOrAny().id]
          : all.filter(() => rng.chance(0.4)).map((s) => s.id);
        const rest = all.map((s) => s.id).filter((id) => !isolated.includes(id));
        this.cluster.partition([isolated, rest]);
        this.note(`partition [${isolated.join(',')}] | [${rest.join(',')}]`);
        const len = 50 + rng.float() * 700;
        w.after(len, WORLD, 'partition heals', () => {
          this.cluster.healPartition();
          this.note('partition healed');
        });
        return;
      }
      case 'net': {
        this.cluster.net = {
          dropRate: rng.chance(0.5) ? rng.float() * 0.2 : 0,
          duplicateRate: rng.chance(0.5) ? rng.float() * 0.05 : 0,
          latencyMs: 0.1 + rng.float() * 2,
          jitterMs: rng.chance(0.3) ? rng.float() * 40 : rng.float() * 2,
        };
        this.note(`network ${JSON.stringify(this.cluster.net)}`);
        return;
      }
      case 'crash': {
        const s = this.leaderOrAny();
        if (!s.up || down >= maxDown) return;
        s.crash('crashed');
        this.note(`crash store ${s.id}`);
        w.after(20 + rng.float() * 600, WORLD, `restart ${s.id}`, () => {
          if (s.up) return;
          this.cluster.restart(s);
          this.note(`restart store ${s.id}`);
        });
        return;
      }
      case 'pause': {
        const s = this.leaderOrAny();
        if (!s.up) return;
        // Often longer than the lease (160 ms) and the election timeout (200 ms): the
        // store resumes as a leader whose lease expired while it slept.
        // Resumed before the chaos ends, so that healing finds every process running.
        const want = rng.chance(0.5) ? 250 + rng.float() * 450 : 10 + rng.float() * 150;
        const len = Math.min(want, this.chaosEnd - w.now);
        w.pause(s.id, w.now + len);
        this.note(`pause store ${s.id} for ${len.toFixed(0)} ms`);
        return;
      }
      case 'disk': {
        const s = this.leaderOrAny();
        if (!s.up || down >= maxDown) return;
        s.diskFaultArmed = true;
        this.note(`disk error armed on store ${s.id}`);
        return;
      }
      case 'split':
        this.split();
        return;
      case 'merge':
        this.merge();
        return;
      case 'member':
        this.member();
        return;
      case 'calm':
        this.cluster.net = { ...CALM_NET };
        this.cluster.healPartition();
        this.note('network calm');
        return;
    }
  }

  /**
   * A split of a Region at one of the workload's keys inside it, asked of a store that
   * leads it (as PD's split operator or `nyx region split` would): the real SplitRunner —
   * ids from PD, an admin entry through Raft, the copy off the loop, the new peers. It
   * may fail (leadership moved, the Region changed meanwhile): that is an outcome, noted.
   */
  private split(): boolean {
    const rng = this.world.rng;
    const leads = this.stores().flatMap((s) =>
      s.up ? [...s.store.peers.values()].filter((p) => p.isLeader()).map((p) => ({ s, p })) : [],
    );
    if (leads.length === 0) return false;
    const { s, p } = rng.pick(leads);
    // Never at the Region's lowest workload key: both halves keep a key the clients use,
    // which the liveness check after healing needs.
    const inside = this.keys.filter((k) => keyInRegion(k, p.region)).sort(Buffer.compare);
    if (inside.length < 2) return false;
    const key = rng.pick(inside.slice(1));
    this.note(`split region ${p.regionId} at ${key.toString()} on store ${s.id}`);
    s.splits.split(p.regionId, [key]).then(
      (r) => {
        this.applied++;
        this.note(
          `split of region ${p.regionId} applied: new region ${r.created.map((c) => c.id).join(',')}`,
        );
      },
      (e: Error) => this.note(`split of region ${p.regionId} failed: ${e.message}`),
    );
    return true;
  }

  /**
   * PD's merge step for two adjacent Regions, sent to a store that leads the source (as the
   * merge checker's operator or `nyx region merge` would): the real MergeRunner — prepare
   * (the fence) on the source, the commit proposed by the target's leader with the source's
   * missing entries, or a rollback. Its outcome shows in the Regions, not here.
   */
  private merge(): void {
    const rng = this.world.rng;
    const regions = this.cluster.newestRegions();
    if (regions.length < 2) return;
    const i = rng.int(0, regions.length - 2);
    const [source, target] = rng.chance(0.5)
      ? [regions[i]!, regions[i + 1]!]
      : [regions[i + 1]!, regions[i]!];
    const leader = this.stores().find((s) => s.up && s.peer(source.id)?.isLeader());
    if (!leader) return;
    this.merges++;
    this.note(`merge region ${source.id} into ${target.id} on store ${leader.id}`);
    leader.merges.prepare(source.id, leader.peer(source.id)!.region.epoch, target);
  }

  /**
   * One step of PD's operators on a Region leader, as operator_executor.ts carries them
   * out: a leadership transfer to a voter, or one step of a replica move — a learner added
   * on a store without a replica (it catches up by snapshot), a learner promoted (alone, or
   * with a voter removed in the same joint change, Raft thesis §4.3), a voter removed.
   * Each step is planned from the Region as its leader sees it then, as PD re-plans after
   * every heartbeat; the leader may refuse it (a change already in flight, an unsafe one),
   * which is noted, as PD would see it.
   */
  private member(): void {
    const rng = this.world.rng;
    const leads = this.stores().flatMap((s) =>
      s.up ? [...s.store.peers.values()].filter((p) => p.isLeader()).map((p) => ({ s, p })) : [],
    );
    if (leads.length === 0) return;
    const { s, p } = rng.pick(leads);
    const region = p.region;
    const voters = region.peers.filter((q) => q.role === PeerRole.Voter);
    // PD promotes a learner only once its leader no longer reports it pending (caught
    // up: operator.ts PromoteLearner); a voter that never caught up could cost the quorum.
    const pending = new Set(p.pendingPeers().map((q) => q.id));
    const learners = region.peers.filter((q) => q.role === PeerRole.Learner);
    const ready = learners.filter((q) => !pending.has(q.id));
    const others = voters.filter((q) => q.id !== p.peerId);
    const missing = this.stores()
      .map((x) => x.id)
      .filter((id) => !region.peers.some((q) => q.storeId === id));
    const change = (peer: Peer, type: ConfChangeType): PeerChange => ({
      peer: { id: peer.id, storeId: peer.storeId },
      type,
    });
    let what: string;
    try {
      if (ready.length > 0 && rng.chance(0.7)) {
        const learner = rng.pick(ready);
        const changes = [change(learner, ConfChangeType.AddNode)];
        // A move's joint step, as PD's ChangePeersJoint: the learner in, a voter demoted
        // (removed as a learner later; a voter cannot leave in a joint change).
        if (voters.length >= 3 && others.length > 0 && rng.chance(0.5)) {
          changes.push(change(rng.pick(others), ConfChangeType.AddLearnerNode));
        }
        what = changes
          .map((c) => `${ConfChangeType[c.type]} ${c.peer.id}@${c.peer.storeId}`)
          .join(' + ');
        p.proposeConfChange(changes);
      } else if (missing.length > 0 && learners.length === 0 && rng.chance(0.7)) {
        const peer = {
          id: this.cluster.allocId(),
          storeId: rng.pick(missing),
          role: PeerRole.Learner,
        };
        what = `AddLearnerNode ${peer.id}@${peer.storeId}`;
        p.proposeConfChange([change(peer, ConfChangeType.AddLearnerNode)]);
      } else if (
        (learners.length > 0 || (voters.length >= 3 && others.length > 0)) &&
        rng.chance(0.5)
      ) {
        // A learner (a demoted voter, or one never promoted) or, with voters to spare, a voter.
        const victim = rng.pick(
          learners.length > 0 && (voters.length < 3 || rng.chance(0.5)) ? learners : others,
        );
        what = `RemoveNode ${victim.id}@${victim.storeId}`;
        p.proposeConfChange([change(victim, ConfChangeType.RemoveNode)]);
      } else if (others.length > 0) {
        const to = rng.pick(others);
        what = `transfer leader to ${to.id}@${to.storeId}`;
        p.transferLeader(to.id, MAX_TRANSFER_LAG);
      } else {
        return;
      }
    } catch (e) {
      if (!isStepRefusal(e)) throw e;
      this.note(`member step on region ${p.regionId} refused: ${(e as Error).message}`);
      return;
    }
    this.memberSteps++;
    this.note(`region ${p.regionId} on store ${s.id}: ${what}`);
    s.store.schedule();
  }

  memberStepsProposed(): number {
    return this.memberSteps;
  }

  mergesAsked(): number {
    return this.merges;
  }

  splitsApplied(): number {
    return this.applied;
  }

  /** End of chaos: calm network, no partition, no armed disk error, every store up. */
  healAll(): void {
    this.cluster.net = { ...CALM_NET };
    this.cluster.healPartition();
    for (const s of this.stores()) {
      s.diskFaultArmed = false;
      if (!s.up) this.cluster.restart(s);
    }
  }
}

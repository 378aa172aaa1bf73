// The failpoint nemesis: a process crashes at a named point (issue #6 §1,
// src/common/failpoint_names.ts) — armed through its status port as `1*panic`, so the
// next time it passes that point it exits at once, without cleanup — and is restarted at
// the heal (PD like kill of PD). Unlike kill -9 at a random instant, this lands exactly in
// the windows durability depends on. Every failpoint of the registry is here; a test
// (failpoint_nemesis.test.ts) fails when one is missing or a name has no site in the code.
//
// The write path's points are passed all the time under the workload, PD's with every TSO
// window it saves (a timer, every 2 s) and every Region change it records. The others are
// passed only when something happens, so the nemesis makes it happen once the point is
// armed, through PD as an operator would:
//   split    a split (as `nyx region split`) of a Region with a replica on the store
//   merge    a merge (as `nyx region merge`) of two adjacent Regions on the store's stores
//   replica  a replica change that needs a snapshot: with a store free of the Region, a
//            move-peer there; on 3 stores, a follower's replica is removed and added again
//            (remove-peer, then add-peer). The store armed is the one that sends the
//            snapshot (the leader's), receives it, keeps a replica through the change, or
//            destroys its replica.
import type { StaticFailpointName } from '../../src/common/failpoint_names.js';
import type { ChaosCluster, RegionView } from './chaos_cluster.js';
import { MERGE_TIMEOUT_MS, MIN_REGIONS, pickMerge } from './merge_nemesis.js';
import type { HealNote, Nemesis, NemesisContext } from './nemesis.js';
import { describeError } from './outcome.js';
import { pickSplitKey } from './topology_nemesis.js';
import type { SimRng } from '../sim/rng.js';
import { sleep } from './workload.js';

type Provocation = 'workload' | 'pd' | 'split' | 'merge' | 'replica';
/** Which store of a replica change is armed. */
type ReplicaRole = 'sender' | 'receiver' | 'member' | 'removed';

export interface CrashPoint {
  name: StaticFailpointName;
  /** The process that has the point. */
  process: 'store' | 'pd';
  /** What makes the process pass it. */
  via: Provocation;
  role?: ReplicaRole;
}

export const CRASH_POINTS: readonly CrashPoint[] = [
  // Write path (store/raft_store.ts): the log write and apply of every turn.
  { name: 'raft_log_before_write', process: 'store', via: 'workload' },
  { name: 'raft_log_after_write', process: 'store', via: 'workload' },
  { name: 'apply_before', process: 'store', via: 'workload' },
  { name: 'apply_after', process: 'store', via: 'workload' },
  // Snapshots (store/snap_transfer.ts, server/store_server.ts).
  { name: 'snapshot_send_mid', process: 'store', via: 'replica', role: 'sender' },
  { name: 'snapshot_receive_mid', process: 'store', via: 'replica', role: 'receiver' },
  { name: 'snapshot_install_mid', process: 'store', via: 'replica', role: 'receiver' },
  { name: 'conf_change_apply_after', process: 'store', via: 'replica', role: 'member' },
  { name: 'peer_destroy_before_delete', process: 'store', via: 'replica', role: 'removed' },
  // Split and merge apply (store/split_apply.ts, store/merge_apply.ts).
  { name: 'split_copy_before', process: 'store', via: 'split' },
  { name: 'split_copy_after', process: 'store', via: 'split' },
  { name: 'split_parent_after', process: 'store', via: 'split' },
  { name: 'merge_copy_before', process: 'store', via: 'merge' },
  { name: 'merge_copy_after', process: 'store', via: 'merge' },
  { name: 'merge_target_after', process: 'store', via: 'merge' },
  // PD (pd/meta_store.ts, pd/tso.ts).
  { name: 'pd_meta_before_write', process: 'pd', via: 'pd' },
  { name: 'pd_meta_after_write', process: 'pd', via: 'pd' },
  { name: 'tso_window_persist', process: 'pd', via: 'pd' },
];

/** The workload writes all the time and PD saves its TSO window every 2 s. */
const HIT_WITHIN_MS = 5000;
/** A provoked change (a remove then an add, a snapshot) takes seconds on a loaded machine. */
const PROVOKED_HIT_WITHIN_MS = 20_000;
/** How long the heal waits for a provoked replica change's operator to end. */
const OPERATOR_SETTLE_MS = 30_000;
const ADMIN_TIMEOUT_MS = 10_000;
const POLL_MS = 200;

/** Where to crash and what leads there. */
interface Plan {
  /** The process armed: a store's name or 'pd'. */
  process: string;
  /** What the nemesis starts once armed, in words. */
  what?: string;
  /** Starts it; resolves with a note for the timeline. */
  provoke?: () => Promise<string>;
  /** After the heal: waits for what was started to end. */
  settle?: () => Promise<string>;
}

const isVoter = (p: RegionView['peers'][number]) => p.role === 'Voter';

function nameOf(cluster: ChaosCluster, storeId: number): string {
  const name = cluster.storeNameById.get(storeId);
  if (!name) throw new Error(`PD names store ${storeId}, which this cluster does not run`);
  return name;
}

/**
 * Polls until the Region's operator `opId` ends: its status, 'still running', or — when
 * PD shows a newer operator of the Region — 'replaced', with that operator's id.
 */
async function operatorEnd(
  cluster: ChaosCluster,
  region: number,
  opId: number,
  withinMs: number,
): Promise<{ status: string; next?: number }> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const now = await cluster
      .pd()
      .getOperator(region)
      .catch(() => undefined);
    if (now && now.id !== opId) return { status: `replaced by operator ${now.id}`, next: now.id };
    if (now && now.status !== 'running') return { status: now.status };
    if (performance.now() > deadline) return { status: 'still running' };
    await sleep(POLL_MS);
  }
}

async function planReplicaChange(
  rng: SimRng,
  cluster: ChaosCluster,
  role: ReplicaRole,
): Promise<Plan | string> {
  const regions = (await cluster.regions()).filter(
    (r) => r.leader && r.peers.length >= 3 && r.peers.every(isVoter),
  );
  if (regions.length === 0) return 'no Region with a leader and 3 voters';
  const r = rng.pick(regions);
  const leader = r.leader!.storeId;
  const from = rng.pick(r.peers.filter((p) => p.storeId !== leader)).storeId;
  const spare = [...cluster.storeNameById.keys()].filter(
    (s) => !r.peers.some((p) => p.storeId === s),
  );
  const to = spare.length > 0 ? rng.pick(spare) : from;
  const stays = r.peers.filter((p) => p.storeId !== from).map((p) => p.storeId);
  const armed = { sender: leader, receiver: to, removed: from, member: rng.pick(stays) }[role];
  const pd = cluster.pd();
  let opId: number | undefined;
  const what =
    to !== from
      ? `move-peer region ${r.id} from store ${from} to store ${to}`
      : `remove-peer then add-peer region ${r.id} on store ${from}`;
  return {
    process: nameOf(cluster, armed),
    what,
    async provoke() {
      if (to !== from) {
        opId = (await pd.addOperator(r.id, 'move-peer', [from, to])).id;
        return `operator ${opId} started`;
      }
      const removal = await pd.addOperator(r.id, 'remove-peer', [from]);
      const removed = await operatorEnd(cluster, r.id, removal.id, PROVOKED_HIT_WITHIN_MS);
      if (removed.next !== undefined) {
        // PD's replica checker saw the Region one replica short and started the addition
        // itself as soon as the removal ended: the snapshot goes to the same store.
        opId = removed.next;
        return `remove-peer operator ${removal.id} ${removed.status}`;
      }
      if (removed.status !== 'finished')
        return `remove-peer operator ${removal.id} ${removed.status}`;
      try {
        opId = (await pd.addOperator(r.id, 'add-peer', [from])).id;
        return `removed, add-peer operator ${opId} started`;
      } catch (e) {
        // PD's replica checker may have started the same addition first: wait for that.
        opId = (await pd.getOperator(r.id).catch(() => undefined))?.id;
        return `removed; add-peer refused (${describeError(e)})`;
      }
    },
    async settle() {
      if (opId === undefined) return '';
      const { status } = await operatorEnd(cluster, r.id, opId, OPERATOR_SETTLE_MS);
      return `operator ${opId} ${status}`;
    },
  };
}

async function planSplit(
  rng: SimRng,
  cluster: ChaosCluster,
  ctx: NemesisContext,
): Promise<Plan | string> {
  const regions = await cluster.regions();
  const key = pickSplitKey(rng, ctx.keys, regions);
  const r = regions.find(
    (x) => x.startKey <= key && (x.endKey === '' || key < x.endKey) && x.peers.length > 0,
  );
  if (!r) return `no Region in PD's list holds ${JSON.stringify(key)}`;
  return {
    process: nameOf(cluster, rng.pick(r.peers).storeId),
    what: `split region ${r.id} at ${JSON.stringify(key)}`,
    async provoke() {
      const halves = await cluster.pd().splitRegions(0, [Buffer.from(key)], ADMIN_TIMEOUT_MS);
      return `split into regions ${halves.map((h) => h.region.id).join(',')}`;
    },
  };
}

async function planMerge(rng: SimRng, cluster: ChaosCluster): Promise<Plan | string> {
  const regions = await cluster.regions();
  if (regions.length <= MIN_REGIONS) return `only ${regions.length} Regions`;
  const pair = pickMerge(rng, regions, true);
  if (!pair) return 'no two adjacent Regions on the same stores';
  const { source, target } = pair;
  return {
    // Every store of the pair holds a target replica, which applies the CommitMerge.
    process: nameOf(cluster, rng.pick(target.peers).storeId),
    what: `merge region ${source.id} into region ${target.id}`,
    async provoke() {
      await cluster.pd().mergeRegions(source.id, target.id, MERGE_TIMEOUT_MS);
      return 'merged';
    },
  };
}

async function plan(
  rng: SimRng,
  cluster: ChaosCluster,
  ctx: NemesisContext,
  point: CrashPoint,
): Promise<Plan | string> {
  switch (point.via) {
    case 'workload':
      return { process: rng.pick(cluster.storeNames()) };
    case 'pd':
      return { process: 'pd' };
    case 'split':
      return planSplit(rng, cluster, ctx);
    case 'merge':
      return planMerge(rng, cluster);
    case 'replica':
      return planReplicaChange(rng, cluster, point.role!);
  }
}

async function planOrWhyNot(
  rng: SimRng,
  cluster: ChaosCluster,
  ctx: NemesisContext,
  point: CrashPoint,
): Promise<Plan | string> {
  try {
    return await plan(rng, cluster, ctx, point);
  } catch (e) {
    return `PD: ${describeError(e)}`;
  }
}

export const failpointNemesis: Nemesis = {
  name: 'failpoint',
  needsFailpoints: true,
  async inject(rng, cluster, ctx) {
    let point = rng.pick(CRASH_POINTS);
    let p = await planOrWhyNot(rng, cluster, ctx, point);
    if (typeof p === 'string') {
      // Nothing to provoke it with now (merges left too few Regions, say): another kind of
      // point, so the turn is not wasted.
      const skipped = `${point.name}: ${p}`;
      point = rng.pick(CRASH_POINTS.filter((x) => x.via !== point.via));
      p = await planOrWhyNot(rng, cluster, ctx, point);
      if (typeof p === 'string') p = `${skipped}; ${point.name}: ${p}`;
    }
    const fp = point.name;
    if (typeof p === 'string') {
      return {
        description: `crash at failpoint ${fp}: not done (${p})`,
        holdMs: rng.int(200, 1000),
        missed: p,
        async heal() {},
      };
    }
    const planned = p;
    const name = planned.process;
    // Operators name stores by id, the timeline's processes by name: say both.
    const who = name === 'pd' ? name : `${name} (store ${cluster.storeIdOf(name)})`;
    const what = `crash ${who} at failpoint ${fp}${planned.what ? ` during ${planned.what}` : ''}`;
    const withinMs = planned.provoke ? PROVOKED_HIT_WITHIN_MS : HIT_WITHIN_MS;
    let provoked: Promise<string> | undefined;
    const crashed = await cluster.crashAtFailpoint(name, fp, withinMs, () => {
      provoked = planned.provoke?.().catch((e: unknown) => `failed: ${describeError(e)}`);
    });
    const down = cluster.isDown(name);
    /** Restart (PD first, as kill's heal), then let what was started finish. */
    const heal = async (): Promise<HealNote | void> => {
      if (down) await cluster.restart(name);
      const notes = [await provoked, await planned.settle?.()].filter((n) => n);
      if (notes.length > 0) return { note: notes.join('; ') };
    };
    if (!crashed) {
      // Either never hit in time (failpoint removed, the process runs on) or it died some
      // other way (then the restart brings it back, and its log says why).
      return {
        description: `${what}: ${down ? 'exited, but not at the failpoint' : `not hit within ${withinMs} ms`}`,
        holdMs: rng.int(200, 1000),
        missed: down ? 'exited otherwise' : 'not hit',
        heal,
      };
    }
    return {
      description: `${what}: exited`,
      holdMs: rng.int(500, 3000),
      heal,
    };
  },
};

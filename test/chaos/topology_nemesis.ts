// Nemeses that change where data lives, through PD's admin API as an operator does (the
// calls `nyx region transfer-leader`, `nyx region split` and `nyx operator add move-peer`
// make):
//   transfer  a random Region's leadership to a random follower's store (Raft thesis
//             §3.10, PD's transfer-leader operator); done when PD sees the new leader
//   split     at a workload key that does not start a Region yet (then at keys between
//             workload keys), so the workload's keys end up in ever more Regions while
//             every key's history stays one history
//   move      a random replica to a store without one (move-peer: learner, joint
//             consensus, removal — thesis §4.3); needs 4 stores. The heal waits for the
//             operator to end; then the runner's recovery bound applies.
// None takes anything away, so the heal is the wait for the change to settle. PD may
// refuse (another operator — its own balance-leader, say — holds the Region); the fault
// is then recorded as not done.
import { describeError } from './outcome.js';
import type { ChaosCluster, RegionView } from './chaos_cluster.js';
import type { Fault, HealNote, Nemesis } from './nemesis.js';
import type { SimRng } from '../sim/rng.js';
import { sleep } from './workload.js';

/** How long an admin action may take; a transfer normally ends in well under 1 s. */
const ADMIN_TIMEOUT_MS = 10_000;
/** How long the heal of a move waits for its operator to end. */
const MOVE_SETTLE_MS = 30_000;
const POLL_MS = 200;

function missedFault(what: string, why: string, rng: SimRng): Fault {
  return {
    description: `${what}: not done (${why})`,
    holdMs: rng.int(200, 1000),
    missed: why,
    async heal() {},
  };
}

const isVoter = (p: RegionView['peers'][number]) => p.role === 'Voter';

/** What `nyx region transfer-leader` does: add the operator, wait for PD to see the leader. */
async function transferLeader(cluster: ChaosCluster, region: number, to: number): Promise<void> {
  const pd = cluster.pd();
  const deadline = performance.now() + ADMIN_TIMEOUT_MS;
  const op = await pd.addOperator(region, 'transfer-leader', [to]);
  for (;;) {
    const now = await pd.getOperator(region);
    const info = await pd.getRegionById(region);
    if (info?.leader && Number(info.leader.storeId) === to) return;
    if (now && now.id === op.id && now.status !== 'running' && now.status !== 'finished') {
      throw new Error(`operator ${op.id} ended ${now.status}`);
    }
    if (performance.now() > deadline) {
      await pd.cancelOperator(region).catch(() => undefined);
      throw new Error(`leadership did not reach store ${to} in ${ADMIN_TIMEOUT_MS} ms`);
    }
    await sleep(POLL_MS);
  }
}

/** Regions tried before a transfer or a move counts as not done. */
const ATTEMPTS = 3;

export const transferNemesis: Nemesis = {
  name: 'transfer',
  async inject(rng, cluster) {
    let last: Fault | undefined;
    // PD refuses a Region another operator works on: then another Region.
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const candidates = (await cluster.regions()).filter(
        (r) => r.leader && r.peers.some((p) => isVoter(p) && p.storeId !== r.leader!.storeId),
      );
      if (candidates.length === 0) {
        return missedFault('transfer-leader', 'no Region with a leader and a follower', rng);
      }
      const r = rng.pick(candidates);
      const from = r.leader!.storeId;
      const to = rng.pick(r.peers.filter((p) => isVoter(p) && p.storeId !== from)).storeId;
      const what = `transfer-leader region ${r.id} from store ${from} to store ${to}`;
      const started = performance.now();
      try {
        await transferLeader(cluster, r.id, to);
      } catch (e) {
        last = missedFault(what, describeError(e), rng);
        continue;
      }
      return {
        description: `${what}: led there after ${Math.round(performance.now() - started)} ms`,
        holdMs: rng.int(500, 2000),
        async heal() {},
      };
    }
    return last!;
  },
};

/** Where to split: a workload key no Region starts at yet, else a key just after one. */
export function pickSplitKey(rng: SimRng, keys: readonly string[], regions: RegionView[]): string {
  const starts = new Set(regions.map((r) => r.startKey));
  const fresh = keys.filter((k) => !starts.has(k));
  if (fresh.length > 0) return rng.pick(fresh);
  // '.' sorts after the '!' of the runner's probe keys (`<start>!probe`), so a probe key
  // stays in the Region whose start it names.
  return `${rng.pick(keys)}.${rng.int(0, 999_999)}`;
}

export const splitNemesis: Nemesis = {
  name: 'split',
  async inject(rng, cluster, ctx) {
    const regions = await cluster.regions();
    const key = pickSplitKey(rng, ctx.keys, regions);
    const what = `split at ${JSON.stringify(key)}`;
    const started = performance.now();
    let halves;
    try {
      halves = await cluster.pd().splitRegions(0, [Buffer.from(key)], ADMIN_TIMEOUT_MS);
    } catch (e) {
      return missedFault(what, describeError(e), rng);
    }
    return {
      description:
        `${what}: regions ${halves.map((h) => h.region.id).join(',')} after ` +
        `${Math.round(performance.now() - started)} ms (${regions.length + halves.length - 1} Regions)`,
      holdMs: rng.int(500, 2000),
      async heal() {},
    };
  },
};

export const moveNemesis: Nemesis = {
  name: 'move',
  async inject(rng, cluster) {
    const stores = [...cluster.storeNameById.keys()];
    let last: Fault | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const candidates = (await cluster.regions()).filter(
        (r) => r.peers.every(isVoter) && r.peers.length < stores.length,
      );
      if (candidates.length === 0) {
        return missedFault('move-peer', 'no Region with only voters and a store without one', rng);
      }
      const r = rng.pick(candidates);
      const from = rng.pick(r.peers).storeId;
      const to = rng.pick(stores.filter((s) => !r.peers.some((p) => p.storeId === s)));
      const what = `move-peer region ${r.id} from store ${from} to store ${to}`;
      let op;
      try {
        op = await cluster.pd().addOperator(r.id, 'move-peer', [from, to]);
      } catch (e) {
        last = missedFault(what, describeError(e), rng);
        continue;
      }
      return movingFault(rng, cluster, r.id, op.id, what);
    }
    return last!;
  },
};

/** A move under way: the heal waits for its operator to end. */
function movingFault(
  rng: SimRng,
  cluster: ChaosCluster,
  region: number,
  opId: number,
  what: string,
): Fault {
  const started = performance.now();
  return {
    description: `${what} (operator ${opId})`,
    // The workload runs on while the learner catches up and the joint change commits.
    holdMs: rng.int(500, 2000),
    async heal(): Promise<HealNote> {
      for (;;) {
        const now = await cluster
          .pd()
          .getOperator(region)
          .catch(() => undefined);
        const ms = Math.round(performance.now() - started);
        if (now && (now.id !== opId || now.status !== 'running')) {
          const status = now.id === opId ? now.status : 'replaced by another operator';
          return {
            note: `operator ${opId} ${status} after ${ms} ms`,
            missed: status !== 'finished',
          };
        }
        if (ms > MOVE_SETTLE_MS) {
          return { note: `operator ${opId} still running after ${ms} ms`, missed: true };
        }
        await sleep(POLL_MS);
      }
    },
  };
}

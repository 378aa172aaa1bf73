// hot-region: spreads the load of hot Regions (hot_stats.ts) over the stores, after PD's
// hot-region scheduler (tikv/pd pkg/schedule/schedulers/hot_region.go), for reads and for
// writes. A hot Region led by the hottest store is relieved in the cheapest way that helps:
//   1. move its leadership to a follower's store that is cooler (reads are served, and
//      writes proposed, by the leader; no data moves);
//   2. if no follower's store is cool enough, move a replica (the leader's, for reads; the
//      one on the store with the most hot write load, for writes) to a cooler store that
//      holds none, through a learner, as balance-region moves replicas.
// A move is made only if the target, with the Region's rate added, stays below the source
// without it by the tolerance: load(target) + rate <= load(source) * (1 - HOT_TOLERANCE).
// The move back would then need load(source) <= (1 - HOT_TOLERANCE)^2 * load(source): so
// two stores never trade a hot Region back and forth (PD's "great decrease" ratio plays the
// same part). One Region that carries all the heat alone is left where it is (moving it only
// moves the hot spot): it is the load split's case (src/store/load_split.ts).
//
// Loads count the hot Regions only (PD does the same) and assume the hot-region operators
// in flight are done, so one round's decisions do not pile onto the same cool store.
import type { RegionInfo } from '../cluster.js';
import type { RegionId, StoreId } from '../../region/meta.js';
import { OperatorKind, OperatorPriority, type OperatorStep } from './operator.js';
import { NEW_PEER } from './plan.js';
import { regionHealth, unhealthyReason } from './region_health.js';
import {
  HOT_KINDS,
  hotRate,
  hotThresholdOf,
  hotUnit,
  storeHotLoads,
  type HotKind,
  type HotRegionStat,
  type StoreHotLoads,
} from './hot_stats.js';
import type { ClusterSnapshot } from './snapshot.js';
import { formatSizeExact } from '../config/value.js';
import { leaderTargetRefusal, replicaTargetRefusal } from './store_filter.js';
import { verdict, type Verdict } from './verdict.js';

export const HOT_REGION = 'hot-region';

/** A move must leave the target this much below the source (PD's great-dec-ratio 0.95). */
export const HOT_TOLERANCE = 0.05;

/** The hot Regions of a kind and the stores' hot loads, operators in flight counted as done. */
export interface HotView {
  kind: HotKind;
  hot: HotRegionStat[];
  loads: StoreHotLoads;
}

export function hotView(snap: ClusterSnapshot, kind: HotKind): HotView {
  const hot = snap.hot
    .hotRegions(kind, snap.now, (id) => snap.cluster.getRegionById(id) !== undefined)
    .map((s) => afterRunningOperator(s, snap));
  return { kind, hot, loads: storeHotLoads(hot) };
}

/** The stat as it will be once the hot-region operator running on its Region is done. */
function afterRunningOperator(s: HotRegionStat, snap: ClusterSnapshot): HotRegionStat {
  const op = snap.runningOn(s.regionId);
  if (!op || op.kind !== OperatorKind.Hot) return s;
  let leaderStore = s.leaderStore;
  let stores = s.stores;
  for (const step of op.steps.slice(op.currentStep)) {
    if (step.kind === 'TransferLeader') leaderStore = step.toStore;
    if (step.kind === 'AddLearner') stores = [...stores, step.toStore];
    if (step.kind === 'RemovePeer') stores = stores.filter((id) => id !== step.fromStore);
  }
  return { ...s, leaderStore, stores };
}

/** A rate for people: whole numbers as they are, fractions to one decimal (>= 100: rounded). */
const fmt = (n: number) =>
  Number.isInteger(n) || n >= 100 ? Math.round(n).toString() : n.toFixed(1);

function loadsLine(view: HotView, which: 'leader' | 'peer', snap: ClusterSnapshot): string {
  const m = which === 'leader' ? view.loads.leader : view.loads.peer;
  const label =
    view.kind === 'read'
      ? 'hot read keys/s led'
      : `hot write B/s ${which === 'leader' ? 'led' : 'held'}`;
  return `${label} per Up store: ${upStores(snap)
    .map((id) => `${id}=${fmt(m.get(id) ?? 0)}`)
    .join(' ')}`;
}

function upStores(snap: ClusterSnapshot): StoreId[] {
  return snap
    .storeList()
    .filter((s) => s.liveness === 'Up')
    .map((s) => s.id)
    .sort((a, b) => a - b);
}

/** Would hot-region move this Region now (for either kind), and how? */
export function hotRegionVerdict(info: RegionInfo, snap: ClusterSnapshot): Verdict {
  const views = HOT_KINDS.map((k) => hotView(snap, k));
  const vs = views.map((v) => hotKindVerdict(info, snap, v));
  const act = vs.find((v) => v.outcome === 'act');
  if (act) return act;
  const outcome = vs.some((v) => v.outcome === 'not-eligible') ? 'not-eligible' : 'nothing-to-do';
  return verdict(
    HOT_REGION,
    outcome,
    vs.map((v) => v.summary).join('; '),
    vs.flatMap((v) => v.details),
  );
}

/** The verdict for one kind, against the view of that kind. */
export function hotKindVerdict(info: RegionInfo, snap: ClusterSnapshot, view: HotView): Verdict {
  const kind = view.kind;
  const unit = hotUnit(kind);
  const t = snap.hot.thresholdsNow();
  const id = info.region.id;
  const seen = snap.hot.get(id, kind, snap.now);
  const stat = view.hot.find((s) => s.regionId === id);
  if (!stat) {
    const rate = seen
      ? `${fmt(hotRate(seen))} ${unit}, hot degree ${seen.degree} of ${t.hitsThreshold}`
      : `no ${kind} load reported`;
    return verdict(
      HOT_REGION,
      'nothing-to-do',
      `not hot for ${kind}s (${rate}; threshold ${thresholdText(kind, hotThresholdOf(kind, t))})`,
    );
  }
  const rate = hotRate(stat);
  const facts = [
    `hot for ${kind}s: ${fmt(rate)} ${unit}, hot degree ${stat.degree} (threshold ${t.hitsThreshold})`,
    loadsLine(view, 'leader', snap),
  ];
  if (kind === 'write') facts.push(loadsLine(view, 'peer', snap));
  const h = regionHealth(info, snap);
  const sick = unhealthyReason(h, snap.config['max-replicas'], snap, false);
  if (sick || !h.leader)
    return verdict(
      HOT_REGION,
      'not-eligible',
      `hot for ${kind}s, but left to the replica checker: ${sick}`,
      facts,
    );
  const up = upStores(snap);
  const leaderLoad = (s: StoreId) => view.loads.leader.get(s) ?? 0;
  const src = stat.leaderStore;
  const hottest = Math.max(...up.map(leaderLoad));
  const srcLoad = leaderLoad(src);

  // 1. The leadership, to the coolest follower's store that may lead it.
  const refused: string[] = [];
  const followers = h.voters
    .filter((p) => p.storeId !== src)
    .filter((p) => {
      const why = leaderTargetRefusal(snap.store(p.storeId), p.storeId);
      if (why) refused.push(`passed over: ${why}`);
      return !why;
    })
    .map((p) => p.storeId)
    .sort((a, b) => leaderLoad(a) - leaderLoad(b) || a - b);
  const leaderDst = followers[0];
  if (srcLoad < hottest)
    return verdict(
      HOT_REGION,
      'nothing-to-do',
      `hot for ${kind}s (${fmt(rate)} ${unit}) on store ${src}, which is not the hottest (${fmt(srcLoad)} < ${fmt(hottest)} ${unit}) — relieve the hottest first`,
      [...facts, ...refused],
    );
  if (leaderDst !== undefined && helps(srcLoad, leaderLoad(leaderDst), rate)) {
    return verdict(
      HOT_REGION,
      'act',
      `hot for ${kind}s: ${fmt(rate)} ${unit}; store ${src} leads ${fmt(srcLoad)}, store ${leaderDst} ${fmt(leaderLoad(leaderDst))} — transfer the leadership to store ${leaderDst}`,
      [...facts, ...refused],
      {
        regionId: id,
        epoch: { ...info.region.epoch },
        desc: `${HOT_REGION} (${kind}): leader store ${src} -> ${leaderDst}`,
        kind: OperatorKind.Hot,
        priority: OperatorPriority.Normal,
        steps: [{ kind: 'TransferLeader', fromStore: src, toStore: leaderDst }],
      },
    );
  }
  const whyNotLeader =
    leaderDst === undefined
      ? 'no follower store can lead it'
      : `moving the leadership to store ${leaderDst} (${fmt(leaderLoad(leaderDst))}) would not lower the hottest store's load by ${HOT_TOLERANCE * 100}%`;

  // 2. A replica, to a cooler store that holds none.
  const peerLoad = (s: StoreId) => view.loads.peer.get(s) ?? 0;
  const moveSick = unhealthyReason(h, snap.config['max-replicas'], snap, true);
  if (moveSick)
    return verdict(
      HOT_REGION,
      'nothing-to-do',
      `hot for ${kind}s: ${whyNotLeader}; no replica move: ${moveSick}`,
      [...facts, ...refused],
    );
  // Reads: the leader's replica (the one serving); writes: the replica on the store with
  // the most hot write load (every replica applies the writes).
  const from =
    kind === 'read'
      ? h.leader
      : [...h.voters].sort(
          (a, b) => peerLoad(b.storeId) - peerLoad(a.storeId) || a.storeId - b.storeId,
        )[0]!;
  const holders = new Set(info.region.peers.map((p) => p.storeId));
  const candidates = snap
    .storeList()
    .filter((s) => !holders.has(s.id))
    .filter((s) => {
      const why = replicaTargetRefusal(snap, s);
      if (why) refused.push(`passed over: ${why}`);
      return !why;
    })
    .map((s) => s.id)
    .sort((a, b) => peerLoad(a) - peerLoad(b) || a - b);
  const dst = candidates[0];
  if (dst === undefined || !helps(peerLoad(from.storeId), peerLoad(dst), rate)) {
    const whyNotPeer =
      dst === undefined
        ? 'no store without a replica can take one'
        : `moving the replica on store ${from.storeId} (${fmt(peerLoad(from.storeId))}) to store ${dst} (${fmt(peerLoad(dst))}) would not lower its load by ${HOT_TOLERANCE * 100}%`;
    return verdict(
      HOT_REGION,
      'nothing-to-do',
      `hot for ${kind}s (${fmt(rate)} ${unit}) on store ${src}: ${whyNotLeader}; ${whyNotPeer} — nothing to do`,
      [...facts, ...refused],
    );
  }
  const steps: OperatorStep[] = [
    { kind: 'AddLearner', toStore: dst, peerId: NEW_PEER },
    { kind: 'PromoteLearner', toStore: dst, peerId: NEW_PEER },
  ];
  if (from.id === h.leader.id)
    steps.push({ kind: 'TransferLeader', fromStore: from.storeId, toStore: dst });
  steps.push({ kind: 'RemovePeer', fromStore: from.storeId, peerId: from.id });
  return verdict(
    HOT_REGION,
    'act',
    `hot for ${kind}s: ${fmt(rate)} ${unit}; ${whyNotLeader} — move the replica from store ${from.storeId} to store ${dst}`,
    [...facts, ...refused],
    {
      regionId: id,
      epoch: { ...info.region.epoch },
      desc: `${HOT_REGION} (${kind}): replica store ${from.storeId} -> ${dst}`,
      kind: OperatorKind.Hot,
      priority: OperatorPriority.Normal,
      steps,
    },
  );
}

function thresholdText(kind: HotKind, v: number): string {
  return kind === 'read' ? `${fmt(v)} keys/s` : `${formatSizeExact(v)}/s`;
}

/** The tolerance rule: the target with the rate added stays below the source by HOT_TOLERANCE. */
export function helps(srcLoad: number, dstLoad: number, rate: number): boolean {
  return rate > 0 && dstLoad + rate <= srcLoad * (1 - HOT_TOLERANCE);
}

/**
 * The moves hot-region would make now: for each kind, the hot Regions led by the hottest
 * store, hottest first; at most one operator per kind and run (PD's hot scheduler also
 * makes one at a time: loads are known only a heartbeat later).
 */
export function* hotRegionCandidates(snap: ClusterSnapshot, rotation: number): Generator<Verdict> {
  // Alternate which kind goes first, as PD alternates read and write runs.
  const kinds = rotation % 2 === 0 ? HOT_KINDS : [...HOT_KINDS].reverse();
  for (const kind of kinds) {
    const view = hotView(snap, kind);
    if (view.hot.length === 0) continue;
    const up = upStores(snap);
    const load = (s: StoreId) => view.loads.leader.get(s) ?? 0;
    const hottest = [...up].sort((a, b) => load(b) - load(a) || a - b)[0];
    if (hottest === undefined) continue;
    const onHottest = new Set<RegionId>(
      view.hot.filter((s) => s.leaderStore === hottest).map((s) => s.regionId),
    );
    for (const s of view.hot) {
      if (!onHottest.has(s.regionId) || snap.runningOn(s.regionId)) continue;
      const info = snap.cluster.getRegionById(s.regionId);
      if (!info) continue;
      const v = hotKindVerdict(info, snap, view);
      if (v.outcome === 'act') {
        yield v;
        break;
      }
    }
  }
}

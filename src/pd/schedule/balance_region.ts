// balance-region: spreads Region replicas evenly over the Up stores by Region count, after
// PD's balance-region scheduler (tikv/pd server/schedulers/balance_region.go). A replica
// moves from the most loaded of its stores to the best store that does not hold one
// (store_filter.ts: Up, not busy, snapshots and lagging peers under their limits) when
// the balance rule (balance.ts) says it is worth it; with the default tolerance every
// store ends within about 5 % (at least one Region) of the mean.
//
// A move adds a learner on the target, promotes it once caught up, moves the leadership
// to it if the source led, and removes the source's replica: the Region has max-replicas
// + 1 voters for a moment and never fewer than max-replicas (a simpler relative of
// PD's joint-consensus move, which the operator contract also allows).
import type { RegionInfo } from '../cluster.js';
import { OperatorKind, OperatorPriority, type OperatorStep } from './operator.js';
import { judgeMove, mean, tolerance } from './balance.js';
import { NEW_PEER } from './plan.js';
import { regionHealth, unhealthyReason } from './region_health.js';
import { rotate } from './balance_leader.js';
import type { ClusterSnapshot } from './snapshot.js';
import { pickReplicaTarget } from './store_filter.js';
import { verdict, type Verdict } from './verdict.js';

export const BALANCE_REGION = 'balance-region';

export interface RegionBalance {
  mean: number;
  tolerance: number;
}

export function regionBalance(snap: ClusterSnapshot): RegionBalance {
  const up = snap.storeList().filter((s) => s.liveness === 'Up');
  const m = mean(up.map((s) => snap.regionScore(s.id)));
  return { mean: m, tolerance: tolerance(m) };
}

export function balanceRegionVerdict(
  info: RegionInfo,
  snap: ClusterSnapshot,
  bal: RegionBalance = regionBalance(snap),
): Verdict {
  const h = regionHealth(info, snap);
  const sick = unhealthyReason(h, snap.config['max-replicas'], snap, true);
  if (sick || !h.leader)
    return verdict(BALANCE_REGION, 'not-eligible', `left to the replica checker: ${sick}`);
  // The source: the replica on the most loaded store; on a tie a follower's (no leader
  // transfer needed), then the store with more data, then the lower id.
  const leaderId = h.leader.id;
  const source = [...h.voters].sort(
    (a, b) =>
      snap.regionScore(b.storeId) - snap.regionScore(a.storeId) ||
      Number(a.id === leaderId) - Number(b.id === leaderId) ||
      snap.regionSize(b.storeId) - snap.regionSize(a.storeId) ||
      a.storeId - b.storeId,
  )[0]!;
  const src = { id: source.storeId, score: snap.regionScore(source.storeId) };
  const target = pickReplicaTarget(snap, h.region);
  const facts = [
    `Regions per Up store (with operators in flight): ${snap
      .storeList()
      .filter((s) => s.liveness === 'Up')
      .map((s) => `${s.id}=${snap.regionScore(s.id)}`)
      .join(' ')}`,
    ...target.refused.map((r) => `passed over: ${r}`),
  ];
  if (!target.best) {
    return verdict(
      BALANCE_REGION,
      'nothing-to-do',
      target.refused.length === 0
        ? 'every store in service already holds a replica of it — nowhere to move one'
        : `store ${src.id} has ${src.score} Regions, mean ${bal.mean.toFixed(1)} — no other store can take a replica`,
      facts,
    );
  }
  const tgt = { id: target.best.id, score: snap.regionScore(target.best.id) };
  const j = judgeMove('Region', src, tgt, bal.mean, bal.tolerance);
  if (!j.move)
    return verdict(BALANCE_REGION, 'nothing-to-do', `${j.reason} — nothing to do`, facts);
  const steps: OperatorStep[] = [
    { kind: 'AddLearner', toStore: tgt.id, peerId: NEW_PEER },
    { kind: 'PromoteLearner', toStore: tgt.id, peerId: NEW_PEER },
  ];
  if (h.leader.id === source.id)
    steps.push({ kind: 'TransferLeader', fromStore: src.id, toStore: tgt.id });
  steps.push({ kind: 'RemovePeer', fromStore: src.id, peerId: source.id });
  return verdict(
    BALANCE_REGION,
    'act',
    `${j.reason} — move the replica from store ${src.id} to store ${tgt.id}`,
    facts,
    {
      regionId: h.region.id,
      epoch: { ...h.region.epoch },
      desc: `${BALANCE_REGION}: store ${src.id} -> ${tgt.id}`,
      kind: OperatorKind.Region,
      priority: OperatorPriority.Normal,
      steps,
    },
  );
}

/** The moves balance-region would make now: replicas on the most loaded stores first,
 * followers before leaders (moving a follower needs no leader transfer). */
export function* balanceRegionCandidates(
  snap: ClusterSnapshot,
  rotation: number,
): Generator<Verdict> {
  const bal = regionBalance(snap);
  const up = snap.storeList().filter((s) => s.liveness === 'Up');
  if (up.length < 2) return;
  const sources = snap
    .storeList()
    .sort(
      (a, b) =>
        snap.regionScore(b.id) - snap.regionScore(a.id) ||
        snap.regionSize(b.id) - snap.regionSize(a.id),
    );
  for (const src of sources) {
    const lowest = () => Math.min(...up.map((s) => snap.regionScore(s.id)));
    if (snap.regionScore(src.id) - lowest() < 2) continue;
    const regions = rotate(snap.regionsOn(src.id), rotation);
    const ordered = [
      ...regions.filter((r) => r.leader?.storeId !== src.id),
      ...regions.filter((r) => r.leader?.storeId === src.id),
    ];
    for (const info of ordered) {
      if (snap.runningOn(info.region.id)) continue;
      const v = balanceRegionVerdict(info, snap, bal);
      if (v.outcome === 'act') yield v;
      if (snap.regionScore(src.id) - lowest() < 2) break;
    }
  }
}

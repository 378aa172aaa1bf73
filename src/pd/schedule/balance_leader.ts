// balance-leader: spreads Region leaderships evenly over the Up stores, with leader
// transfers only (no data moves), after PD's balance-leader scheduler (tikv/pd
// server/schedulers/balance_leader.go). A leader moves from its store to the follower's
// store with the fewest leaders when the balance rule (balance.ts) says the move is worth
// it. Leaders never go to a store that is not Up (Disconnected, Down, Offline) nor to a
// lagging peer, and Regions that are short of replicas are left to the replica checker.
import type { RegionInfo } from '../cluster.js';
import type { StoreId } from '../../region/meta.js';
import { OperatorKind, OperatorPriority } from './operator.js';
import { judgeMove, mean, tolerance } from './balance.js';
import { regionHealth, unhealthyReason } from './region_health.js';
import type { ClusterSnapshot } from './snapshot.js';
import { leaderTargetRefusal } from './store_filter.js';
import { verdict, type Verdict } from './verdict.js';

export const BALANCE_LEADER = 'balance-leader';

export interface LeaderBalance {
  mean: number;
  tolerance: number;
}

/** Mean leaders per Up store (operators in flight included) and the tolerance around it. */
export function leaderBalance(snap: ClusterSnapshot): LeaderBalance {
  const up = snap.storeList().filter((s) => s.liveness === 'Up');
  const m = mean(up.map((s) => snap.leaderScore(s.id)));
  return { mean: m, tolerance: tolerance(m) };
}

/** Would balance-leader move this Region's leader now, and where? */
export function balanceLeaderVerdict(
  info: RegionInfo,
  snap: ClusterSnapshot,
  bal: LeaderBalance = leaderBalance(snap),
): Verdict {
  const h = regionHealth(info, snap);
  const sick = unhealthyReason(h, snap.config['max-replicas'], snap, false);
  if (sick || !h.leader)
    return verdict(BALANCE_LEADER, 'not-eligible', `left to the replica checker: ${sick}`);
  const from = h.leader.storeId;
  const src = { id: from, score: snap.leaderScore(from) };
  const refused: string[] = [];
  const targets = h.voters
    .filter((p) => p.id !== h.leader!.id)
    .filter((p) => {
      const why = leaderTargetRefusal(snap.store(p.storeId), p.storeId);
      if (why) refused.push(why);
      return !why;
    })
    .map((p) => ({ id: p.storeId, score: snap.leaderScore(p.storeId) }))
    .sort((a, b) => a.score - b.score || a.id - b.id);
  const facts = [
    `leaders per Up store (with operators in flight): ${snap
      .storeList()
      .filter((s) => s.liveness === 'Up')
      .map((s) => `${s.id}=${snap.leaderScore(s.id)}`)
      .join(' ')}`,
    ...refused.map((r) => `passed over: ${r}`),
  ];
  const best = targets[0];
  if (!best) {
    return verdict(
      BALANCE_LEADER,
      'nothing-to-do',
      `store ${from} has ${src.score} leaders, mean ${bal.mean.toFixed(1)} — no follower's store can lead it`,
      facts,
    );
  }
  const j = judgeMove('leader', src, best, bal.mean, bal.tolerance);
  if (!j.move)
    return verdict(BALANCE_LEADER, 'nothing-to-do', `${j.reason} — nothing to do`, facts);
  return verdict(
    BALANCE_LEADER,
    'act',
    `${j.reason} — transfer the leadership to store ${best.id}`,
    facts,
    {
      regionId: h.region.id,
      epoch: { ...h.region.epoch },
      desc: `${BALANCE_LEADER}: store ${from} -> ${best.id}`,
      kind: OperatorKind.Leader,
      priority: OperatorPriority.Normal,
      steps: [{ kind: 'TransferLeader', fromStore: from, toStore: best.id }],
    },
  );
}

/**
 * The moves balance-leader would make now, best first: Regions led by the stores with the
 * most leaders. Lazy, so that each verdict sees the operators submitted before it.
 */
export function* balanceLeaderCandidates(
  snap: ClusterSnapshot,
  rotation: number,
): Generator<Verdict> {
  const bal = leaderBalance(snap);
  const up = snap.storeList().filter((s) => s.liveness === 'Up');
  if (up.length < 2) return;
  const sources = snap.storeList().sort((a, b) => snap.leaderScore(b.id) - snap.leaderScore(a.id));
  // A move from src is worth it for some Region only if one to the Up store with the
  // fewest leaders is (judgeMove asks less of a target the fewer leaders it has): without
  // this check, a store a few leaders above the others but within the tolerance had every
  // Region it leads judged, one by one, every round — with thousands of Regions, most of
  // an idle PD's work.
  const worthMoving = (src: StoreId): boolean => {
    const low = up.reduce((a, b) => (snap.leaderScore(b.id) < snap.leaderScore(a.id) ? b : a));
    const from = { id: src, score: snap.leaderScore(src) };
    const to = { id: low.id, score: snap.leaderScore(low.id) };
    return judgeMove('leader', from, to, bal.mean, bal.tolerance).move;
  };
  for (const src of sources) {
    if (!worthMoving(src.id)) continue;
    const led = snap.regionsOn(src.id).filter((r) => r.leader?.storeId === src.id);
    for (const info of rotate(led, rotation)) {
      if (snap.runningOn(info.region.id)) continue;
      const v = balanceLeaderVerdict(info, snap, bal);
      if (v.outcome === 'act') yield v;
      if (!worthMoving(src.id)) break;
    }
  }
}

/** The list starting at a moving offset, so a Region that cannot move does not block the rest. */
export function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length === 0) return [];
  const k = ((by % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

// The replica checker: makes every Region have max-replicas voters on healthy stores.
// After PD's ReplicaChecker (tikv/pd server/schedule/checker/replica_checker.go), in its
// order of urgency:
//   1. a replica on a Down store (silent past max-store-down-time) is replaced: add a
//      learner elsewhere (or take a learner already on a healthy store), promote it, then
//      remove the dead one (High priority); when the healthy voters are enough without
//      it (a move was under way), it is only removed;
//      so is a replica its leader has reported down (silent) for max-store-down-time while
//      its store still heartbeats (see silentPastDownTime for PD's rule);
//   2. a replica on an Offline store (`nyx store remove`) is replaced the same way, the
//      leadership moved off it first when it leads (Normal): this drains the store;
//   3. a Region short of voters gets one: a leftover learner that caught up is promoted,
//      else a new learner is added on the best store and promoted (High);
//   4. a Region with too many voters loses the one on the most loaded store (Normal);
//   5. a learner no operator is waiting for (left by a move that timed out or was
//      cancelled) is removed, as PD's rule checker removes orphan peers (Low).
// A learner is always added first and promoted only once caught up: a new voter that
// still needs a snapshot would count towards the quorum without being able to vote
// for entries (Raft thesis §4.2.1).
import type { RegionInfo } from '../cluster.js';
import { isJoint, type Peer, type Region } from '../../region/meta.js';
import { OperatorKind, OperatorPriority, type OperatorStep } from './operator.js';
import { NEW_PEER, type OperatorPlan } from './plan.js';
import { regionHealth, storesOf, type RegionHealth } from './region_health.js';
import type { ClusterSnapshot } from './snapshot.js';
import { pickReplicaTarget } from './store_filter.js';
import { verdict, type Verdict } from './verdict.js';
import { configDef } from '../config/schema.js';
import { formatConfigValue } from '../config/value.js';

export const REPLICA_CHECKER = 'replica-checker';

export function checkReplicas(info: RegionInfo, snap: ClusterSnapshot): Verdict {
  const h = regionHealth(info, snap);
  const max = snap.config['max-replicas'];
  const facts = describeReplicas(h, snap);
  if (!h.leader)
    return verdict(
      REPLICA_CHECKER,
      'not-eligible',
      'PD has heard from no leader of this Region yet: operators go to the leader, so nothing can be done',
      facts,
    );

  // Inside a joint configuration (an operator's ChangePeersJoint, or one left behind when
  // its leader crashed) the voter sets are in flux: the leader leaves it first.
  if (isJoint(h.region))
    return verdict(
      REPLICA_CHECKER,
      'held-back',
      'a joint membership change is under way — the leader leaves the joint state first',
      facts,
    );

  const silent = silentPastDownTime(h, snap);
  const dead = [...h.down, ...silent.map((d) => d.peer)];
  const downVoter = dead.find((p) => h.voters.includes(p));
  if (downVoter) {
    const what = deadWhat(downVoter, silent, snap);
    // Enough healthy voters without it (a move was under way when its store died): just
    // remove it, as PD does for a down peer of a Region with a replica to spare.
    const healthy = h.voters.filter((p) => !dead.includes(p) && !h.offline.includes(p));
    if (healthy.length >= max) {
      return verdict(
        REPLICA_CHECKER,
        'act',
        `${what} and ${healthy.length} healthy voters remain (max-replicas ${max}) — remove it`,
        facts,
        plan(h.region, `${REPLICA_CHECKER}: remove down replica`, OperatorPriority.High, [
          { kind: 'RemovePeer', fromStore: downVoter.storeId, peerId: downVoter.id },
        ]),
      );
    }
    return replace(h, downVoter, 'Down', OperatorPriority.High, snap, facts, what);
  }
  const downLearner = dead.find((p) => h.learners.includes(p));
  if (downLearner)
    return removeLearner(
      h,
      downLearner,
      h.down.includes(downLearner)
        ? 'its store is Down'
        : `its leader has not heard from it for ${silent.find((d) => d.peer === downLearner)!.downSeconds}s`,
      facts,
    );
  const offlineVoter = h.offline.find((p) => h.voters.includes(p));
  if (offlineVoter)
    return replace(h, offlineVoter, 'Offline', OperatorPriority.Normal, snap, facts);
  const offlineLearner = h.offline.find((p) => h.learners.includes(p));
  if (offlineLearner) return removeLearner(h, offlineLearner, 'its store is Offline', facts);

  if (h.voters.length < max) return makeUpReplica(h, max, snap, facts);
  if (h.voters.length > max) return removeExtra(h, max, snap, facts);
  if (h.learners.length > 0) {
    const l = h.learners[0]!;
    return removeLearner(
      h,
      l,
      `${max}/${max} voters already; no operator waits for this learner`,
      facts,
    );
  }
  const pending =
    h.pending.length > 0 ? `; lagging peer(s) on store(s) ${storesOf(h.pending)} catching up` : '';
  if (h.reportedDown.length > 0) {
    const downTime = formatDownTime(snap);
    return verdict(
      REPLICA_CHECKER,
      'held-back',
      `${h.voters.length}/${max} voters; its leader reports ${h.reportedDown
        .map((d) => `the peer on store ${d.peer.storeId} silent for ${d.downSeconds}s`)
        .join(', ')}${pending} — it is re-made elsewhere once its store is Down or after ` +
        `${downTime} (max-store-down-time) of silence, not before`,
      facts,
    );
  }
  return verdict(
    REPLICA_CHECKER,
    'nothing-to-do',
    `${h.voters.length}/${max} voters, all on Up stores${pending} — nothing to do`,
    facts,
  );
}

/**
 * The peers the leader reports down that are to be replaced although their store is not
 * Down. PD's replica checker (checkDownPeer) acts on a reported-down peer only once its
 * store has been silent for max-store-down-time ("only consider the state of the store, not
 * DownSeconds", tikv/pd #4078): the leader's view alone may be a partition between two
 * stores that both still reach PD, or a store restarting, and a replica re-made then is a
 * snapshot copied for nothing. Here every replica on a Down store is replaced anyway (rule
 * 1), report or not. What the store's state misses is a store that heartbeats again while
 * its replica of this Region stays dead — a crash loop, a Region it cannot load — which PD
 * then never repaired (tikv/pd #10778). So a peer whose leader has not heard from it for
 * max-store-down-time itself — as long as a whole store must be silent to be judged Down —
 * is replaced too, its store Up or not. The leader's clock restarts at each election
 * (peer_liveness.ts), so a leader change delays this, never hastens it.
 */
function silentPastDownTime(
  h: RegionHealth,
  snap: ClusterSnapshot,
): { peer: Peer; downSeconds: number }[] {
  const maxDownMs = snap.config['max-store-down-time'];
  const out: { peer: Peer; downSeconds: number }[] = [];
  for (const d of h.reportedDown) {
    const peer = h.region.peers.find((p) => p.id === d.peer.id);
    if (!peer || h.down.includes(peer)) continue;
    if (d.downSeconds * 1000 >= maxDownMs) out.push({ peer, downSeconds: d.downSeconds });
  }
  return out;
}

function deadWhat(
  p: Peer,
  silent: { peer: Peer; downSeconds: number }[],
  snap: ClusterSnapshot,
): string {
  const s = silent.find((d) => d.peer === p);
  if (!s) return `replica on store ${p.storeId} is Down`;
  return (
    `replica on store ${p.storeId} has not been heard from by its leader for ${s.downSeconds}s ` +
    `(max-store-down-time ${formatDownTime(snap)}), its store ${snap.store(p.storeId)?.liveness ?? 'Tombstone'}`
  );
}

function formatDownTime(snap: ClusterSnapshot): string {
  return formatConfigValue(configDef('max-store-down-time'), snap.config['max-store-down-time']);
}

function describeReplicas(h: RegionHealth, snap: ClusterSnapshot): string[] {
  const pending = new Set(h.pending.map((p) => p.id));
  const silent = new Map(h.reportedDown.map((d) => [d.peer.id, d.downSeconds]));
  return h.region.peers.map((p) => {
    const bits = [
      `peer ${p.id} on store ${p.storeId}: ${p.role.toLowerCase()}`,
      snap.store(p.storeId)?.liveness ?? 'Tombstone',
    ];
    if (h.leader?.id === p.id) bits.push('leader');
    if (pending.has(p.id)) bits.push('lagging');
    if (silent.has(p.id)) bits.push(`silent for ${silent.get(p.id)}s`);
    return bits.join(', ');
  });
}

/** Add a learner elsewhere, promote it, move the leadership off `old` if needed, remove `old`. */
function replace(
  h: RegionHealth,
  old: Peer,
  why: 'Down' | 'Offline',
  priority: OperatorPriority,
  snap: ClusterSnapshot,
  facts: string[],
  what = `replica on store ${old.storeId} is ${why}`,
): Verdict {
  // A learner already on a healthy store (a move that was replaced or timed out half-way
  // left it): it becomes the replacement — its store holds a replica of the Region, so no
  // new one can go there, and a second copy elsewhere would be a snapshot sent for nothing.
  const spare = h.learners.find((l) => usableLearner(h, l, snap));
  if (spare && h.pending.includes(spare))
    return verdict(
      REPLICA_CHECKER,
      'held-back',
      `${what} — the learner on store ${spare.storeId} replaces it once it has caught up`,
      facts,
    );
  const target = spare ? undefined : pickReplicaTarget(snap, h.region);
  if (target && !target.best) return noTarget(what, target.refused, facts);
  const to = spare?.storeId ?? target!.best!.id;
  const steps: OperatorStep[] = spare
    ? [{ kind: 'PromoteLearner', toStore: to, peerId: spare.id }]
    : [
        { kind: 'AddLearner', toStore: to, peerId: NEW_PEER },
        { kind: 'PromoteLearner', toStore: to, peerId: NEW_PEER },
      ];
  // The leader never removes itself (operator.ts); the new voter has caught up by now.
  if (h.leader?.id === old.id)
    steps.push({ kind: 'TransferLeader', fromStore: old.storeId, toStore: to });
  steps.push({ kind: 'RemovePeer', fromStore: old.storeId, peerId: old.id });
  return verdict(
    REPLICA_CHECKER,
    'act',
    spare
      ? `${what} — replace it with the caught-up learner on store ${to}`
      : `${what} — replace it with a new replica on store ${to} (${snap.regionScore(to)} Regions)`,
    [...facts, ...refusedFacts(target?.refused ?? [])],
    plan(h.region, `${REPLICA_CHECKER}: replace ${why.toLowerCase()} replica`, priority, steps),
  );
}

/** A learner on an Up store its leader hears from: one that can become a voter. */
function usableLearner(h: RegionHealth, l: Peer, snap: ClusterSnapshot): boolean {
  return (
    snap.store(l.storeId)?.liveness === 'Up' && !h.reportedDown.some((d) => d.peer.id === l.id)
  );
}

function makeUpReplica(
  h: RegionHealth,
  max: number,
  snap: ClusterSnapshot,
  facts: string[],
): Verdict {
  const short = `${h.voters.length}/${max} voters`;
  // A learner left by an earlier move: promote it if it caught up rather than copy again.
  const ready = h.learners.find((l) => !h.pending.includes(l) && usableLearner(h, l, snap));
  if (ready) {
    return verdict(
      REPLICA_CHECKER,
      'act',
      `${short} — promote the caught-up learner on store ${ready.storeId}`,
      facts,
      plan(h.region, `${REPLICA_CHECKER}: promote learner`, OperatorPriority.High, [
        { kind: 'PromoteLearner', toStore: ready.storeId, peerId: ready.id },
      ]),
    );
  }
  const lagging = h.learners.find((l) => h.pending.includes(l));
  if (lagging) {
    return verdict(
      REPLICA_CHECKER,
      'held-back',
      `${short} — the learner on store ${lagging.storeId} is still catching up (stuck if this lasts); promote it once it has`,
      facts,
    );
  }
  const target = pickReplicaTarget(snap, h.region);
  if (!target.best) return noTarget(`${short}, a replica is missing`, target.refused, facts);
  const to = target.best.id;
  return verdict(
    REPLICA_CHECKER,
    'act',
    `${short} — add a replica on store ${to} (${snap.regionScore(to)} Regions)`,
    [...facts, ...refusedFacts(target.refused)],
    plan(h.region, `${REPLICA_CHECKER}: missing replica`, OperatorPriority.High, [
      { kind: 'AddLearner', toStore: to, peerId: NEW_PEER },
      { kind: 'PromoteLearner', toStore: to, peerId: NEW_PEER },
    ]),
  );
}

/** Removes the voter on the most loaded store; never the leader's. */
function removeExtra(
  h: RegionHealth,
  max: number,
  snap: ClusterSnapshot,
  facts: string[],
): Verdict {
  const candidates = h.voters
    .filter((p) => p.id !== h.leader?.id)
    .sort(
      (a, b) => snap.regionScore(b.storeId) - snap.regionScore(a.storeId) || b.storeId - a.storeId,
    );
  const victim = candidates[0];
  if (!victim)
    throw new Error(`region ${h.region.id}: ${h.voters.length} voters but none to remove`);
  return verdict(
    REPLICA_CHECKER,
    'act',
    `${h.voters.length}/${max} voters — remove the one on store ${victim.storeId} (${snap.regionScore(victim.storeId)} Regions, the most loaded)`,
    facts,
    plan(h.region, `${REPLICA_CHECKER}: extra replica`, OperatorPriority.Normal, [
      { kind: 'RemovePeer', fromStore: victim.storeId, peerId: victim.id },
    ]),
  );
}

function removeLearner(h: RegionHealth, learner: Peer, why: string, facts: string[]): Verdict {
  return verdict(
    REPLICA_CHECKER,
    'act',
    `learner on store ${learner.storeId}: ${why} — remove it`,
    facts,
    plan(h.region, `${REPLICA_CHECKER}: orphan learner`, OperatorPriority.Low, [
      { kind: 'RemovePeer', fromStore: learner.storeId, peerId: learner.id },
    ]),
  );
}

function noTarget(what: string, refused: string[], facts: string[]): Verdict {
  return verdict(
    REPLICA_CHECKER,
    'held-back',
    refused.length === 0
      ? `${what}, but every store in service already holds a replica — add a store`
      : `${what}, but no store can take a new replica: ${refused.join('; ')}`,
    facts,
  );
}

function refusedFacts(refused: string[]): string[] {
  return refused.map((r) => `passed over: ${r}`);
}

function plan(
  region: Region,
  desc: string,
  priority: OperatorPriority,
  steps: OperatorStep[],
): OperatorPlan {
  return {
    regionId: region.id,
    epoch: { ...region.epoch },
    desc,
    kind: OperatorKind.Replica,
    priority,
    steps,
  };
}

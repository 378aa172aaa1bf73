// Membership changes of a Region as Raft conf-change entries (TiKV's ChangePeer /
// ChangePeerV2), in three pure parts:
//
//   propose  the leader turns PD's step into a ConfChange whose context names the Region,
//            the epoch it was checked against and the peers it adds (with their stores:
//            Raft knows only peer ids), after TiKV's check_conf_change refusals;
//   apply    on every replica, the committed entry changes Raft's configuration and the
//            Region meta together: peers and roles follow the new configuration, conf_ver
//            +1 (region_applier.ts writes the meta in the same transaction as the apply
//            index). The check runs alike on every replica: same entry, same prior state.
//   leave    the leader leaves a joint configuration by itself once it is applied (Raft
//            thesis §4.3, etcd's autoLeave); that entry carries no context, and apply
//            derives the Region from the configuration alone.
import {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
} from '../raft/index.js';
import { Peer, PeerRole, Region, RegionEpoch, cloneRegion, isVoterRole } from '../region/meta.js';

/** What a conf-change entry carries beside the change itself. */
export interface ConfChangeContext {
  regionId: number;
  /** The epoch the leader checked the change against; apply refuses another conf_ver. */
  epoch: RegionEpoch;
  /** The peers the change names, with their stores (new peers are not in the Region yet). */
  peers: { id: number; storeId: number }[];
}

const CONTEXT_VERSION = 1;
/** Peers a change may name: a Region has at most 16 (trust_limits.ts MAX_REGION_PEERS). */
const MAX_CONTEXT_PEERS = 16;

export class ConfChangeContextError extends Error {}

export function encodeConfChangeContext(c: ConfChangeContext): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      v: CONTEXT_VERSION,
      region: c.regionId,
      confVer: c.epoch.confVer,
      version: c.epoch.version,
      peers: c.peers.map((p) => [p.id, p.storeId]),
    }),
  );
}

/** Decodes a context; throws ConfChangeContextError on anything malformed. */
export function decodeConfChangeContext(data: Uint8Array): ConfChangeContext {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new ConfChangeContextError('conf change context is not JSON');
  }
  const x = o as {
    v?: unknown;
    region?: unknown;
    confVer?: unknown;
    version?: unknown;
    peers?: unknown;
  };
  const id = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
  const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (x.v !== CONTEXT_VERSION || !id(x.region) || !count(x.confVer) || !count(x.version))
    throw new ConfChangeContextError('malformed conf change context');
  if (!Array.isArray(x.peers) || x.peers.length > MAX_CONTEXT_PEERS)
    throw new ConfChangeContextError('conf change context peers');
  const peers = x.peers.map((p: unknown) => {
    if (!Array.isArray(p) || p.length !== 2 || !id(p[0]) || !id(p[1]))
      throw new ConfChangeContextError('conf change context peer');
    return { id: p[0] as number, storeId: p[1] as number };
  });
  return {
    regionId: x.region as number,
    epoch: { confVer: x.confVer as number, version: x.version as number },
    peers,
  };
}

/** One peer change of a step, as PD sends it (ChangePeer / ChangePeerV2). */
export interface PeerChange {
  peer: { id: number; storeId: number };
  type: ConfChangeType;
}

/**
 * The ConfChange for PD's changes: one change alone is a simple change (§4.1); several go
 * through a joint configuration that the leader leaves by itself once it applied it.
 */
export function buildConfChange(region: Region, changes: PeerChange[]): ConfChange {
  const singles: ConfChangeSingle[] = changes.map((c) => ({ type: c.type, nodeId: c.peer.id }));
  return {
    transition: changes.length > 1 ? ConfChangeTransition.JointImplicit : ConfChangeTransition.Auto,
    changes: singles,
    context: encodeConfChangeContext({
      regionId: region.id,
      epoch: { ...region.epoch },
      peers: changes.map((c) => ({ ...c.peer })),
    }),
  };
}

/** Why a leader refuses to propose a change (TiKV's check_conf_change), or undefined. */
export function checkConfChange(
  region: Region,
  leaderPeerId: number,
  changes: PeerChange[],
  /** Whether a voter is alive as the leader sees it (its progress was recently active). */
  isAlive: (peerId: number) => boolean,
): string | undefined {
  if (changes.length === 0) return 'no peer changes';
  const seen = new Set<number>();
  const after = new Map(region.peers.map((p) => [p.id, p.role]));
  for (const c of changes) {
    if (seen.has(c.peer.id)) return `peer ${c.peer.id} is changed twice`;
    seen.add(c.peer.id);
    const cur = region.peers.find((p) => p.id === c.peer.id);
    const onStore = region.peers.find((p) => p.storeId === c.peer.storeId);
    if (cur && cur.storeId !== c.peer.storeId)
      return `peer ${c.peer.id} is on store ${cur.storeId}, not ${c.peer.storeId}`;
    if (c.peer.id === leaderPeerId && c.type !== ConfChangeType.AddNode)
      return `peer ${c.peer.id} is the leader: transfer leadership before removing or demoting it`;
    switch (c.type) {
      case ConfChangeType.AddLearnerNode:
        if (!cur && onStore)
          return `store ${c.peer.storeId} has peer ${onStore.id} of the region already`;
        after.set(c.peer.id, PeerRole.Learner);
        break;
      case ConfChangeType.AddNode:
        // New voters join as learners first and catch up (issue 9 §3): only promotions.
        if (!cur)
          return `peer ${c.peer.id} is not a learner of the region; add it as a learner first`;
        after.set(c.peer.id, PeerRole.Voter);
        break;
      case ConfChangeType.RemoveNode:
        if (!cur) return `peer ${c.peer.id} is not in the region`;
        // In a joint configuration a voter on its way out is an outgoing voter, which the
        // Region's meta writes as DemotingVoter, the role of a voter becoming a learner:
        // rebuilt from the meta (a restart, a snapshot) it would come back as a learner on
        // this replica alone. So a voter leaves as TiKV has it: demoted in the joint change
        // (AddLearnerNode), removed as a learner after (what PD's operators do).
        if (changes.length > 1 && isVoterRole(cur.role))
          return (
            `peer ${c.peer.id} is a voter: demote it to a learner in the joint change ` +
            `(AddLearnerNode) and remove it after`
          );
        after.delete(c.peer.id);
        break;
    }
  }
  if (region.peers.some((p) => !isStableRole(p.role)))
    return 'the region is in a joint configuration still';
  // Every configuration the change passes through must keep a quorum of live voters:
  // the joint one needs majorities of both old and new voters.
  const oldVoters = region.peers.filter((p) => isVoterRole(p.role)).map((p) => p.id);
  const newVoters = [...after].filter(([, r]) => r === PeerRole.Voter).map(([id]) => id);
  if (newVoters.length === 0) return 'the change would leave the region without voters';
  for (const [name, voters] of [
    ['new', newVoters],
    ['old', oldVoters],
  ] as const) {
    const alive = voters.filter((id) => id === leaderPeerId || isAlive(id)).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    if (alive < quorum)
      return `the ${name} configuration would have ${alive} live voters of ${voters.length}, fewer than a quorum (${quorum})`;
  }
  return undefined;
}

function isStableRole(r: PeerRole): boolean {
  return r === PeerRole.Voter || r === PeerRole.Learner;
}

/**
 * The Region after a conf change that Raft applied: its peers follow `after` (the roles
 * of a joint configuration included), conf_ver + 1. Store ids come from the Region or,
 * for peers it did not have, from the entry's context.
 */
export function regionAfterConfChange(
  region: Region,
  after: ConfState,
  contextPeers: readonly { id: number; storeId: number }[],
): Region {
  const storeOf = new Map<number, number>();
  for (const p of region.peers) storeOf.set(p.id, p.storeId);
  for (const p of contextPeers) if (!storeOf.has(p.id)) storeOf.set(p.id, p.storeId);
  const incoming = new Set(after.voters);
  const outgoing = new Set(after.votersOutgoing);
  const joint = after.votersOutgoing.length > 0;
  const roleOf = (id: number): PeerRole | undefined => {
    if (incoming.has(id))
      return joint && !outgoing.has(id) ? PeerRole.IncomingVoter : PeerRole.Voter;
    if (outgoing.has(id)) return PeerRole.DemotingVoter;
    if (after.learners.includes(id)) return PeerRole.Learner;
    return undefined;
  };
  const ids = [
    ...region.peers.map((p) => p.id),
    ...contextPeers.map((p) => p.id).filter((id) => !region.peers.some((p) => p.id === id)),
  ];
  const peers: Peer[] = [];
  for (const id of ids) {
    const role = roleOf(id);
    const storeId = storeOf.get(id);
    if (role === undefined) continue;
    if (storeId === undefined)
      throw new Error(`region ${region.id}: peer ${id} has no known store`);
    peers.push({ id, storeId, role });
  }
  const next = cloneRegion(region);
  next.peers = peers;
  next.epoch = { confVer: region.epoch.confVer + 1, version: region.epoch.version };
  return next;
}

/**
 * Every Region that was bootstrapped, split off or received by snapshot has version >= 1;
 * the placeholder of a peer created from a Raft message (peer_creation.ts) has epoch 0/0
 * and no range until its first snapshot arrives.
 */
export function isInitializedRegion(region: Region): boolean {
  return region.epoch.version > 0;
}

/** Two conf states name the same configuration. */
export function sameConfState(a: ConfState, b: ConfState): boolean {
  const n = (ids: number[]) => [...ids].sort((x, y) => x - y).join(',');
  return (
    n(a.voters) === n(b.voters) &&
    n(a.votersOutgoing) === n(b.votersOutgoing) &&
    n(a.learners) === n(b.learners) &&
    n(a.learnersNext) === n(b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}

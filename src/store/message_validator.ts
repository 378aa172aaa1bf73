// What a store checks about a Raft message from another store before the message may
// reach Raft (issue 7, finding 2). Raft itself trusts its peers completely: it adopts any
// higher term, appends what a leader sends and applies what was committed. So everything a
// peer could get wrong — or forge — is checked here first, and a message that fails is
// dropped, logged and counted, never fatal:
//
//   routing    the message is for this store's peer of the Region, and the peers named by
//              the envelope are the ones named by the Raft message itself;
//   membership the sender (peer id AND the store hosting it) is a member of the Region in
//              this store's current view — not merely "some peer id";
//   type       only the types Raft sends between nodes; snapshots only on the snapshot
//              stream, whose file was received and verified first;
//   content    entries of an append are contiguous, well-termed and decode as what the
//              log promises (a Region command, a conf change); a snapshot's metadata and
//              descriptor are well formed; a heartbeat does not commit past our log.
//
// Terms and indexes were already bounded by the codec (RAFT_NUMBER_LIMIT, raft_codec.ts).
//
// Epochs. TiKV's `PeerFsm::check_msg` drops a message whose epoch is older than the
// receiver's only when its sender is not in the receiver's Region (a removed peer still
// talking); a member with an older epoch is a replica that has not applied the latest
// change yet, and its messages are what lets it catch up. We do the same. For a message
// whose epoch is NEWER than ours, TiKV steps it even from a peer it does not know yet (a
// peer added by a change this replica has not applied). We drop it instead: this store
// cannot tell such a peer from a forger; a lagging replica learns the new membership from
// the log a member it knows sends it before it talks to the new peers. A message for a
// Region this store does not host may create an uninitialized peer first (raft_store.ts,
// peer_creation.ts: an initial message addressed here, not tombstoned, bounded in number);
// everything else for an unknown Region is dropped.
import {
  EntryType,
  MessageType,
  decodeConfChange,
  encodeConfChange,
  type ConfState,
  type Entry,
  type Message,
} from '../raft/index.js';
import { restoreConfig } from '../raft/confchange/index.js';
import { PeerRole, type Region } from '../region/meta.js';
import { decodeSnapshotDescriptor } from '../storage/region_snapshot.js';
import { decodeCommand } from './cmd/command.js';
import type { RegionPeer } from './peer.js';
import type { RaftEnvelope } from './raft_store.js';

/** Why a message from a peer was dropped; a label for metrics. */
export type DropReason =
  | 'decode'
  | 'unknown-region'
  | 'wrong-receiver'
  | 'envelope-mismatch'
  | 'not-member'
  | 'stream-store'
  | 'message-type'
  | 'bad-term'
  | 'bad-entries'
  | 'bad-commit'
  | 'bad-snapshot'
  | 'snapshot-not-needed'
  | 'split-in-progress'
  // no room on this store's disk for the entries or the snapshot (disk_usage.ts)
  | 'disk-full'
  // the snapshot stream's own refusals (snap_transfer.ts)
  | 'bad-snapshot-file'
  | 'snapshot-too-large'
  | 'snapshot-busy'
  | 'snapshot-idle';

export interface Refusal {
  reason: DropReason;
  detail: string;
}

/** Which stream a message arrived on: the batched message stream, or a snapshot stream. */
export type Channel = 'messages' | 'snapshot';

/** What the receiving store knows of its peer of the message's Region. */
export interface ReceiverView {
  storeId: number;
  peerId: number;
  /** The Region as this store currently knows it (range, epoch, peers). */
  region: Region;
  /** The peer's Raft log: last index and commit index. */
  lastIndex: number;
  committed: number;
  /**
   * The peer is applying a split whose steps run on worker threads over its file: a
   * snapshot installed now would be renamed over a file they have open (peer.ts).
   */
  applyingSplit?: boolean;
}

/**
 * The message types Raft sends from one node to another. The rest (Hup, Beat, Prop,
 * Unreachable, SnapStatus, CheckQuorum) are a node's own inputs: from the wire they
 * would let a peer trigger elections or, with Prop, propose on our behalf (proposals are
 * not forwarded between stores: `disableProposalForwarding`).
 */
const REMOTE_TYPES = new Set<MessageType>([
  MessageType.App,
  MessageType.AppResp,
  MessageType.Vote,
  MessageType.VoteResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.Snap,
  MessageType.Heartbeat,
  MessageType.HeartbeatResp,
  MessageType.TransferLeader,
  MessageType.TimeoutNow,
  MessageType.ReadIndex,
  MessageType.ReadIndexResp,
]);

/** Types whose `entries` carry something: log entries, or a read request's context. */
const TYPES_WITH_ENTRIES = new Set<MessageType>([
  MessageType.App,
  MessageType.ReadIndex,
  MessageType.ReadIndexResp,
]);

const refuse = (reason: DropReason, detail: string): Refusal => ({ reason, detail });

/**
 * Check a decoded message against the receiver's view of its Region. Undefined means the
 * message may be stepped; otherwise it must be dropped, for the reason given.
 */
export function checkRaftMessage(
  env: RaftEnvelope,
  view: ReceiverView,
  channel: Channel,
): Refusal | undefined {
  const m = env.message;
  const region = view.region;
  if (env.regionId !== region.id)
    return refuse('wrong-receiver', `message for region ${env.regionId}, not ${region.id}`);

  // Routing: to this store's peer, and the envelope agrees with the Raft message, so that
  // a check of the envelope's peers is a check of what Raft will see.
  if (env.toPeer.id !== view.peerId || env.toPeer.storeId !== view.storeId)
    return refuse(
      'wrong-receiver',
      `to peer ${env.toPeer.id} on store ${env.toPeer.storeId}, but this is peer ${view.peerId} on store ${view.storeId}`,
    );
  // One exception: a follower forwards a transfer request to its leader with `from` still
  // naming the transferee (raft.ts send()); that node must then be a voter of the Region.
  const forwardedTransfer =
    m.type === MessageType.TransferLeader &&
    region.peers.some((p) => p.id === m.from && p.role === PeerRole.Voter);
  if (m.to !== env.toPeer.id || (m.from !== env.fromPeer.id && !forwardedTransfer))
    return refuse(
      'envelope-mismatch',
      `message ${m.from}->${m.to} in an envelope ${env.fromPeer.id}->${env.toPeer.id}`,
    );

  // Membership: the sender, by peer id and by store, in our current view of the Region.
  const from = env.fromPeer;
  const member = region.peers.find((p) => p.id === from.id);
  if (!member || member.storeId !== from.storeId || from.storeId === view.storeId)
    return refuse(
      'not-member',
      `peer ${from.id} on store ${from.storeId} is not a member of region ${region.id} at epoch ${region.epoch.confVer}/${region.epoch.version}`,
    );

  // Type, and which stream it may arrive on.
  if (!REMOTE_TYPES.has(m.type)) return refuse('message-type', `${m.type} is local to a node`);
  if ((m.type === MessageType.Snap) !== (channel === 'snapshot'))
    return refuse(
      'message-type',
      m.type === MessageType.Snap
        ? 'a snapshot outside a snapshot stream (its file was never received)'
        : `${m.type} on a snapshot stream`,
    );
  // Raft treats term 0 as a node's own message. Only a forwarded read request travels
  // with term 0 (raft.ts send()); anything else would skip Raft's term checks.
  if (m.term === 0 && m.type !== MessageType.ReadIndex)
    return refuse('bad-term', `${m.type} without a term`);

  // Content.
  if (m.entries.length > 0 && !TYPES_WITH_ENTRIES.has(m.type))
    return refuse('bad-entries', `${m.type} carries entries`);
  if (m.type === MessageType.App) {
    const bad = checkAppendEntries(m, region.id);
    if (bad) return refuse('bad-entries', bad);
  }
  if (m.type === MessageType.ReadIndex || m.type === MessageType.ReadIndexResp) {
    if (m.entries.length !== 1) return refuse('bad-entries', `${m.type} without one context`);
  }
  if (m.type === MessageType.Heartbeat && m.commit > view.lastIndex) {
    // A leader sends min(match, committed), and match is what we acknowledged as durable:
    // a commit beyond our log is not from a correct leader, and Raft would fail on it.
    return refuse('bad-commit', `heartbeat commit ${m.commit} beyond last index ${view.lastIndex}`);
  }
  if (m.snapshot !== undefined && m.type !== MessageType.Snap)
    return refuse('bad-snapshot', `${m.type} carries a snapshot`);
  if (m.type === MessageType.Snap) {
    const bad = checkSnapshotMessage(env, view);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * An append's entries follow the message's (index, logTerm) without gaps, in terms that
 * never decrease and never exceed the sender's, and each decodes as what its type says.
 */
function checkAppendEntries(m: Message, regionId: number): string | undefined {
  if (m.logTerm > m.term) return `log term ${m.logTerm} above the message term ${m.term}`;
  let prevTerm = m.logTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.index !== m.index + 1 + i)
      return `entry ${i} has index ${e.index}, want ${m.index + 1 + i}`;
    if (e.term < prevTerm || e.term > m.term || e.term === 0)
      return `entry ${e.index} has term ${e.term} (previous ${prevTerm}, message ${m.term})`;
    prevTerm = e.term;
    const bad = checkEntryData(e, regionId);
    if (bad) return `entry ${e.index}: ${bad}`;
  }
  return undefined;
}

/**
 * What apply will do with an entry must not fail for want of decoding it: a Normal entry
 * is empty (a new leader's entry) or a command of this Region; a ConfChange entry is a
 * conf change in its canonical encoding with node ids that are peer ids.
 */
export function checkEntryData(e: Entry, regionId: number): string | undefined {
  if (e.type === EntryType.Normal) {
    if (e.data.length === 0) return undefined;
    let cmdRegion: number;
    try {
      cmdRegion = decodeCommand(e.data).regionId;
    } catch (err) {
      return `not a region command: ${(err as Error).message}`;
    }
    if (cmdRegion !== regionId) return `a command of region ${cmdRegion}`;
    return undefined;
  }
  let cc;
  try {
    cc = decodeConfChange(e.data);
  } catch (err) {
    return `not a conf change: ${(err as Error).message}`;
  }
  for (const c of cc.changes)
    if (!Number.isSafeInteger(c.nodeId) || c.nodeId <= 0)
      return `conf change names node ${c.nodeId}`;
  // The decoder reads what it needs and ignores the rest; the canonical encoding of what
  // it read must be the whole entry, so that no two replicas can read it differently.
  if (!Buffer.from(encodeConfChange(cc)).equals(Buffer.from(e.data)))
    return 'conf change with trailing or inconsistent bytes';
  return undefined;
}

function checkSnapshotMessage(env: RaftEnvelope, view: ReceiverView): Refusal | undefined {
  const m = env.message;
  const s = m.snapshot;
  if (!s) return refuse('bad-snapshot', 'a snapshot message without a snapshot');
  const md = s.metadata;
  if (md.index === 0 || md.term === 0 || md.term > m.term)
    return refuse(
      'bad-snapshot',
      `snapshot at index ${md.index} term ${md.term} (message term ${m.term})`,
    );
  // Raft ignores a snapshot it does not need (at or below its commit index): refusing it
  // here means its file is never received (issue 7, finding 4).
  if (md.index <= view.committed)
    return refuse(
      'snapshot-not-needed',
      `snapshot at ${md.index}, but committed is ${view.committed}`,
    );
  if (view.applyingSplit)
    return refuse('split-in-progress', `a split is being applied; send the snapshot again later`);
  const bad = checkConfState(md.confState, view.peerId);
  if (bad) return refuse('bad-snapshot', bad);
  let desc;
  try {
    desc = decodeSnapshotDescriptor(s.data);
  } catch (err) {
    return refuse('bad-snapshot', (err as Error).message);
  }
  if (desc.regionId !== env.regionId)
    return refuse('bad-snapshot', `descriptor of region ${desc.regionId}`);
  if (desc.applyState.appliedIndex !== md.index || desc.applyState.appliedTerm !== md.term)
    return refuse(
      'bad-snapshot',
      `descriptor at ${desc.applyState.appliedIndex}/${desc.applyState.appliedTerm}, metadata at ${md.index}/${md.term}`,
    );
  return undefined;
}

/**
 * A conf state Raft can restore, and that includes this peer: Raft ignores a snapshot of
 * a configuration without it, and the file would be kept for nothing. Raft rebuilds the
 * configuration with restoreConfig, which applies the checks of a proposed change, and
 * then asserts that the result is the conf state it was given (raft.ts restore()): a
 * conf state that fails either (a voter that is also a learner, a node listed twice)
 * would fail Raft, so it is refused here by the same two steps.
 */
function checkConfState(cs: ConfState, peerId: number): string | undefined {
  if (cs.voters.length === 0) return 'snapshot conf state without voters';
  const all = [...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext];
  if (all.some((id) => id === 0)) return 'snapshot conf state names node 0';
  if (!all.includes(peerId)) return `snapshot conf state without peer ${peerId}`;
  let config;
  try {
    // Pure: it builds a configuration and touches nothing else, so whatever it throws on
    // (a ConfChangeError, a broken invariant) is a property of this conf state.
    config = restoreConfig(cs, 1, 1, 0).config;
  } catch (err) {
    return `snapshot conf state: ${(err as Error).message}`;
  }
  const norm = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b).join(',');
  const same =
    norm(config.voters.incoming.ids) === norm(cs.voters) &&
    norm(config.voters.outgoing.ids) === norm(cs.votersOutgoing) &&
    norm(config.learners) === norm(cs.learners) &&
    norm(config.learnersNext) === norm(cs.learnersNext) &&
    config.autoLeave === cs.autoLeave;
  return same ? undefined : 'snapshot conf state is not one Raft can restore as given';
}

/** The receiver's view, from its peer of the Region. */
export function receiverView(storeId: number, peer: RegionPeer): ReceiverView {
  const log = peer.node.raft.raftLog;
  return {
    storeId,
    peerId: peer.peerId,
    region: peer.region,
    lastIndex: log.lastIndex(),
    committed: log.committed,
    applyingSplit: peer.applyingSplit,
  };
}

/**
 * Check a message against the store that received it: its Region must be hosted here
 * (peers for unknown Regions are not created from messages yet), then checkRaftMessage.
 */
export function checkForStore(
  store: { storeId: number; peers: ReadonlyMap<number, RegionPeer> },
  env: RaftEnvelope,
  channel: Channel,
): Refusal | undefined {
  const peer = store.peers.get(env.regionId);
  if (!peer) return refuse('unknown-region', `region ${env.regionId} is not hosted here`);
  return checkRaftMessage(env, receiverView(store.storeId, peer), channel);
}

/** The routing fields of an envelope, for a log line about it. */
export function describeEnvelope(env: RaftEnvelope | undefined): object {
  if (!env) return {};
  return {
    regionId: env.regionId,
    type: env.message.type,
    from: env.fromPeer.id,
    fromStore: env.fromPeer.storeId,
    to: env.toPeer.id,
    term: env.message.term,
  };
}

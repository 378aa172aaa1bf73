// The vocabulary of the Raft core: log entries, messages, hard/soft state, snapshots and
// configurations. Shapes follow etcd-io/raft's raftpb so that the rules of the Raft thesis
// map one to one; indexes and terms are plain numbers (safe up to 2^53).

export type NodeId = number;

export enum EntryType {
  Normal = 0,
  /** A single-step change (one voter or learner) or an explicit joint change, as ConfChange. */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** The command; for ConfChange entries the encoded ConfChange (see encodeConfChange). */
  data: Uint8Array;
}

export enum MessageType {
  /** Local: start an election (or a pre-election when pre-vote is on). */
  Hup = 'Hup',
  /** Local: the leader's heartbeat tick. */
  Beat = 'Beat',
  /** Local or forwarded: append entries to the leader's log. */
  Prop = 'Prop',
  App = 'App',
  AppResp = 'AppResp',
  Vote = 'Vote',
  VoteResp = 'VoteResp',
  PreVote = 'PreVote',
  PreVoteResp = 'PreVoteResp',
  Snap = 'Snap',
  Heartbeat = 'Heartbeat',
  HeartbeatResp = 'HeartbeatResp',
  /** Local: the application could not reach a peer. */
  Unreachable = 'Unreachable',
  /** Local: the application reports how sending a snapshot went. */
  SnapStatus = 'SnapStatus',
  /** Local: the leader checks it still hears from a quorum (check-quorum). */
  CheckQuorum = 'CheckQuorum',
  /** Local or forwarded: transfer leadership to `from`. */
  TransferLeader = 'TransferLeader',
  /** Sent by a leader to its transferee: campaign now, ignoring the lease. */
  TimeoutNow = 'TimeoutNow',
  /** Local or forwarded: a linearizable read request carrying a context. */
  ReadIndex = 'ReadIndex',
  ReadIndexResp = 'ReadIndexResp',
}

/** A message between peers of one Raft group (or a local input when from/to are 0). */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** Term of the entry at `index` (App: prev log term; Vote: last log term). */
  logTerm: number;
  /** App: prev log index; AppResp: last accepted index or rejected index; Vote: last index. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** On a rejected AppResp: the follower's guess of where the logs may agree. */
  rejectHint: number;
  /** Heartbeat/ReadIndex context (request id of a read). */
  context?: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export enum StateRole {
  Follower = 'Follower',
  Candidate = 'Candidate',
  Leader = 'Leader',
  PreCandidate = 'PreCandidate',
}

export interface SoftState {
  lead: NodeId;
  role: StateRole;
}

/**
 * A configuration: voters (incoming and, while joint, outgoing), learners, learners that
 * are demoted voters waiting for the joint config to be left, and whether the joint
 * config is left automatically. See Raft thesis §4.3 (joint consensus).
 */
export interface ConfState {
  voters: NodeId[];
  votersOutgoing: NodeId[];
  learners: NodeId[];
  learnersNext: NodeId[];
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export enum ConfChangeType {
  AddNode = 'AddNode',
  RemoveNode = 'RemoveNode',
  AddLearnerNode = 'AddLearnerNode',
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

export enum ConfChangeTransition {
  /** Simple if possible (one voter changes), else joint with auto-leave. */
  Auto = 'Auto',
  /** Always joint; leave automatically once the joint config is applied. */
  JointImplicit = 'JointImplicit',
  /** Always joint; the application proposes an empty ConfChange to leave. */
  JointExplicit = 'JointExplicit',
}

/**
 * A membership change. An empty `changes` list means "leave the joint configuration".
 * `context` is opaque to Raft (e.g. the address of a new peer).
 */
export interface ConfChange {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context?: Uint8Array;
}

/** The result of a ReadIndex request: reads at `index` are linearizable once applied. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export const NONE: NodeId = 0;

export function emptyConfState(): ConfState {
  return { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** A message with every optional field at its zero value. */
export function newMessage(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

/** Local messages never cross the network: they are inputs from the application. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.Unreachable ||
    t === MessageType.PreVoteResp
  );
}

export function voteResponseType(t: MessageType): MessageType {
  if (t === MessageType.Vote) return MessageType.VoteResp;
  if (t === MessageType.PreVote) return MessageType.PreVoteResp;
  throw new Error(`not a vote message: ${t}`);
}

/** Bytes an entry counts for in size limits (payload only, as etcd/raft does). */
export function entryPayloadSize(e: Entry): number {
  return e.data.length;
}

/** The payload bytes of entries together (entryPayloadSize of each). */
export function payloadsSize(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += entryPayloadSize(e);
  return s;
}

/** Bytes an entry counts for in message size limits (payload plus a small header). */
export function entrySize(e: Entry): number {
  return e.data.length + 16;
}

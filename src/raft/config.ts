// Configuration of one Raft node, with etcd/raft-like defaults and validation.
import { RaftError } from './errors.js';
import { Rand } from './rand.js';
import { ReadOnlyOption } from './read_only.js';
import { Storage } from './storage.js';
import { NodeId } from './types.js';

export interface RaftConfig {
  id: NodeId;
  storage: Storage;
  /** Injected randomness for election timeouts (a SeededRand in tests and simulation). */
  rand: Rand;
  /** Ticks without hearing from a leader before a follower campaigns. Default 10. */
  electionTick?: number;
  /** Ticks between leader heartbeats. Default 1. Must be < electionTick. */
  heartbeatTick?: number;
  /** The last applied index, when restarting. */
  applied?: number;
  /** Max bytes of entries in one append message. Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Max bytes of committed entries handed to the application per Ready. Default 64 MiB. */
  maxCommittedSizePerReady?: number;
  /** Max bytes of uncommitted entry payloads on a leader; 0 means no limit. */
  maxUncommittedEntriesSize?: number;
  /** Max append messages in flight per follower (Replicate state). Default 256. */
  maxInflightMsgs?: number;
  /** Max bytes of append messages in flight per follower; 0 means no limit. */
  maxInflightBytes?: number;
  /** Leader steps down if it has not heard from a quorum in an election timeout. Default on. */
  checkQuorum?: boolean;
  /** Pre-vote before disrupting a term (thesis §9.6). Default on. */
  preVote?: boolean;
  /**
   * With check-quorum: for the first election timeout after this node is created, refuse
   * (pre-)votes that a leadership transfer does not force, as if a leader had just been
   * heard. Default on.
   *
   * Why (thesis §4.2.3, §6.4): a leader's lease rests on every follower that acknowledged
   * it ignoring vote requests for an election timeout afterwards. That memory is volatile:
   * a node that crashed and restarted has no leader and would grant votes at once, so a
   * partitioned candidate could win with it while the old leader still serves lease reads.
   * Not knowing whether it acknowledged a leader just before it stopped, a node created
   * from storage assumes it did, at tick 0. etcd-io/raft has no such rule (TiKV's restarted
   * peers also vote at once); turn it off only where no leader lease is trusted.
   */
  refuseVotesOnStart?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
}

export type ResolvedRaftConfig = Required<RaftConfig>;

export class ConfigError extends RaftError {}

export function resolveConfig(c: RaftConfig): ResolvedRaftConfig {
  const r: ResolvedRaftConfig = {
    electionTick: 10,
    heartbeatTick: 1,
    applied: 0,
    maxSizePerMsg: 1 << 20,
    maxCommittedSizePerReady: 64 << 20,
    maxUncommittedEntriesSize: 0,
    maxInflightMsgs: 256,
    maxInflightBytes: 0,
    checkQuorum: true,
    preVote: true,
    refuseVotesOnStart: true,
    readOnlyOption: ReadOnlyOption.Safe,
    disableProposalForwarding: false,
    ...stripUndefined(c),
  } as ResolvedRaftConfig;
  if (!Number.isInteger(r.id) || r.id <= 0)
    throw new ConfigError('cannot use 0 or a non-integer as id');
  if (r.heartbeatTick <= 0) throw new ConfigError('heartbeat tick must be greater than 0');
  if (r.electionTick <= r.heartbeatTick) {
    throw new ConfigError('election tick must be greater than heartbeat tick');
  }
  if (r.maxInflightMsgs <= 0) throw new ConfigError('max inflight messages must be greater than 0');
  if (r.maxInflightBytes !== 0 && r.maxInflightBytes < r.maxSizePerMsg) {
    throw new ConfigError('max inflight bytes must be >= max message size');
  }
  if (r.readOnlyOption === ReadOnlyOption.LeaseBased && !r.checkQuorum) {
    // A lease is only trustworthy if a leader that lost its quorum steps down in time.
    throw new ConfigError('CheckQuorum must be enabled when ReadOnlyOption is LeaseBased');
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

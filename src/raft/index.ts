// The Raft consensus core: a pure, deterministic state machine (no I/O, clocks or
// randomness of its own). See rawnode.ts for how an application drives it.
export * from './types.js';
export * from './errors.js';
export { type Rand, SeededRand } from './rand.js';
export { type Storage, type InitialState, MemoryStorage } from './storage.js';
export { type RaftConfig, ConfigError } from './config.js';
export { ReadOnlyOption } from './read_only.js';
export { Raft, CampaignType, CAMPAIGN_TRANSFER } from './raft.js';
export {
  RawNode,
  SnapshotStatus,
  type Ready,
  type Status,
  type ProgressStatus,
} from './rawnode.js';
export { ProgressState } from './tracker/index.js';
export { ConfChangeError, encodeConfChange, decodeConfChange } from './confchange/index.js';
export { MajorityConfig, JointConfig, VoteResult } from './quorum/index.js';
export { isQuiescentLeader, leaderUnrest, followerMaySleep } from './quiescence.js';

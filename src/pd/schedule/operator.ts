// The contract between PD's schedulers (who decide what a Region should become) and the
// operator controller (who drives a Region there, one step per leader heartbeat), after
// PD's operator package (tikv/pd server/schedule/operator). A scheduler or checker builds
// an Operator; the controller admits it (at most one per Region, within store limits),
// sends its current step to the Region's leader in the heartbeat reply, advances when a
// heartbeat shows the step done, and ends it in exactly one final state.
import type { PeerId, Region, RegionEpoch, RegionId, StoreId } from '../../region/meta.js';

/**
 * One change a Region's leader makes through Raft. Each is idempotent as seen from the
 * heartbeats: a step is done when the Region PD sees has the state the step asks for.
 */
export type OperatorStep =
  /** Leadership moves from the peer on fromStore to the peer on toStore. */
  | { kind: 'TransferLeader'; fromStore: StoreId; toStore: StoreId }
  /** A new learner with a PD-allocated peer id; done when the learner is in the Region. */
  | { kind: 'AddLearner'; toStore: StoreId; peerId: PeerId }
  /** The learner becomes a voter (only after it caught up: the leader reports it not pending). */
  | { kind: 'PromoteLearner'; toStore: StoreId; peerId: PeerId }
  /** The peer on fromStore leaves the Region (never the leader: transfer first). */
  | { kind: 'RemovePeer'; fromStore: StoreId; peerId: PeerId }
  /**
   * Several voter changes at once through joint consensus (Raft thesis §4.3, etcd's
   * ConfChangeV2): learners promoted and voters demoted in one step, then left in a
   * second; used by moves that swap a voter for a caught-up learner.
   */
  | {
      kind: 'ChangePeersJoint';
      promote: { storeId: StoreId; peerId: PeerId }[];
      demote: { storeId: StoreId; peerId: PeerId }[];
    }
  /** Split at keys (none: the leader picks the middle by size). */
  | { kind: 'SplitRegion'; keys: Buffer[] }
  /**
   * Merge this Region (the source) into its neighbour `target`, as PD saw the target when
   * it planned (src/store/merge_apply.ts). The source's PrepareMerge bumps its conf_ver and
   * version; the step is done when the source is gone from PD's map (the target's wider
   * report replaced it), which the controller learns from that report, not from a
   * heartbeat of the source.
   */
  | { kind: 'MergeRegion'; target: Region };

/** What an operator is for; store limits and `nyx operator list` group by these. */
export enum OperatorKind {
  Leader = 'leader',
  Region = 'region',
  Replica = 'replica',
  Split = 'split',
  Merge = 'merge',
  /** Relieves a hot store (hot_region.ts); bounded by hot-region-schedule-limit. */
  Hot = 'hot-region',
  Admin = 'admin',
}

/** Higher runs first and may replace a lower one on the same Region. */
export enum OperatorPriority {
  Low = 0,
  Normal = 1,
  High = 2,
  Urgent = 3,
}

export enum OperatorStatus {
  Running = 'running',
  Finished = 'finished',
  TimedOut = 'timed out',
  Cancelled = 'cancelled',
  /** A higher-priority operator on the same Region took its place. */
  Replaced = 'replaced',
  /** The Region changed under it (epoch moved past what its steps assume). */
  Stale = 'stale',
}

export interface Operator {
  /** PD-allocated, unique for the cluster's life. */
  readonly id: number;
  readonly regionId: RegionId;
  /** Who made it and why, e.g. "balance-leader", "replica-checker: missing replica", "admin". */
  readonly desc: string;
  readonly kind: OperatorKind;
  readonly priority: OperatorPriority;
  readonly steps: readonly OperatorStep[];
  /** The Region's epoch the steps were computed against. */
  readonly epoch: RegionEpoch;
  readonly createdAtMs: number;
  /** The whole operator ends TimedOut after this long without finishing. */
  readonly timeoutMs: number;
  /** Index into steps of the step being carried out. */
  currentStep: number;
  status: OperatorStatus;
  /** When it reached its final status (undefined while Running). */
  endedAtMs?: number;
}

export type AddOperatorResult =
  | { ok: true }
  | {
      ok: false;
      /** In words, for `nyx operator add` and `nyx region explain`. */
      reason: string;
    };

/**
 * What schedulers and checkers see of the controller. Implemented by the controller in
 * src/pd/schedule/operator_controller.ts.
 */
export interface OperatorSink {
  /** Admit an operator, or say why not (one already running, a store limit, a stale epoch). */
  add(op: Operator): AddOperatorResult;
  /** The Running operator of a Region, if any. */
  running(regionId: RegionId): Operator | undefined;
  /** Running operators that touch a store (for store limits and balance decisions). */
  runningOnStore(storeId: StoreId): Operator[];
  /** Allocates an operator id (and ids for new peers come from PdCluster.allocId). */
  nextOperatorId(): number;
}

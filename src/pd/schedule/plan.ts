// What a checker or scheduler decides before anything is allocated: an OperatorPlan is an
// Operator without ids. Deciding is free of side effects, so `nyx region explain` can run
// the very same decision code and show its plan without touching the cluster; only the
// coordinator turns a plan into an Operator (allocating the new peers' ids from PD's id
// allocator and the operator id from the sink) when it hands it to the controller.
import type { RegionEpoch, RegionId, StoreId } from '../../region/meta.js';
import {
  OperatorKind,
  OperatorPriority,
  OperatorStatus,
  type Operator,
  type OperatorStep,
} from './operator.js';

/** The peer id of a peer a plan creates: filled in by materialize(). */
export const NEW_PEER = 0;

export interface OperatorPlan {
  readonly regionId: RegionId;
  readonly epoch: RegionEpoch;
  readonly desc: string;
  readonly kind: OperatorKind;
  readonly priority: OperatorPriority;
  /** AddLearner / PromoteLearner of a new peer carry peerId NEW_PEER. */
  readonly steps: readonly OperatorStep[];
}

/**
 * How long each kind of step may take before the whole operator times out, after PD's
 * operator wait times: a leader transfer is quick (an election timeout or two); adding a
 * learner may mean sending a whole Region snapshot.
 */
const STEP_TIMEOUT_MS: Record<OperatorStep['kind'], number> = {
  TransferLeader: 10_000,
  AddLearner: 120_000,
  PromoteLearner: 30_000,
  RemovePeer: 30_000,
  ChangePeersJoint: 30_000,
  SplitRegion: 60_000,
  MergeRegion: 60_000,
};

export function planTimeoutMs(steps: readonly OperatorStep[]): number {
  return steps.reduce((sum, s) => sum + STEP_TIMEOUT_MS[s.kind], 0);
}

/**
 * The Operator for a plan: one new peer id per store that a NEW_PEER step names (the same
 * id for its AddLearner and its PromoteLearner).
 */
export function materialize(
  plan: OperatorPlan,
  ids: { allocPeerId: () => number; operatorId: number },
  nowMs: number,
): Operator {
  const newPeers = new Map<StoreId, number>();
  const peerFor = (store: StoreId): number => {
    let id = newPeers.get(store);
    if (id === undefined) {
      id = ids.allocPeerId();
      if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`bad allocated peer id ${id}`);
      newPeers.set(store, id);
    }
    return id;
  };
  const steps = plan.steps.map((s): OperatorStep => {
    if ((s.kind === 'AddLearner' || s.kind === 'PromoteLearner') && s.peerId === NEW_PEER)
      return { ...s, peerId: peerFor(s.toStore) };
    if (s.kind === 'ChangePeersJoint')
      return {
        ...s,
        promote: s.promote.map((p) =>
          p.peerId === NEW_PEER ? { ...p, peerId: peerFor(p.storeId) } : p,
        ),
      };
    return s;
  });
  return {
    id: ids.operatorId,
    regionId: plan.regionId,
    desc: plan.desc,
    kind: plan.kind,
    priority: plan.priority,
    steps,
    epoch: { ...plan.epoch },
    createdAtMs: nowMs,
    timeoutMs: planTimeoutMs(steps),
    currentStep: 0,
    status: OperatorStatus.Running,
  };
}

/** A step in words, for explain, logs and `nyx operator show`. */
export function describeStep(s: OperatorStep): string {
  const peer = (id: number) => (id === NEW_PEER ? 'a new peer' : `peer ${id}`);
  switch (s.kind) {
    case 'TransferLeader':
      return `transfer leader from store ${s.fromStore} to store ${s.toStore}`;
    case 'AddLearner':
      return `add learner on store ${s.toStore} (${peer(s.peerId)})`;
    case 'PromoteLearner':
      return `promote learner on store ${s.toStore} (${peer(s.peerId)}) to voter`;
    case 'RemovePeer':
      return `remove peer ${s.peerId} on store ${s.fromStore}`;
    case 'ChangePeersJoint':
      return (
        'joint change: ' +
        [
          ...s.promote.map((p) => `promote store ${p.storeId} (${peer(p.peerId)})`),
          ...s.demote.map((p) => `demote store ${p.storeId} (peer ${p.peerId})`),
        ].join(', ')
      );
    case 'SplitRegion':
      return s.keys.length === 0 ? 'split in the middle' : `split at ${s.keys.length} key(s)`;
    case 'MergeRegion':
      return `merge into region ${s.target.id}`;
  }
}

export function priorityName(p: OperatorPriority): string {
  return OperatorPriority[p]!.toLowerCase();
}

/** The PD setting that bounds operators of a kind in flight (none: not limited here). */
export function limitSettingOf(
  kind: OperatorKind,
):
  | 'leader-schedule-limit'
  | 'region-schedule-limit'
  | 'replica-schedule-limit'
  | 'merge-schedule-limit'
  | 'hot-region-schedule-limit'
  | undefined {
  switch (kind) {
    case OperatorKind.Leader:
      return 'leader-schedule-limit';
    case OperatorKind.Region:
      return 'region-schedule-limit';
    case OperatorKind.Replica:
      return 'replica-schedule-limit';
    case OperatorKind.Merge:
      return 'merge-schedule-limit';
    case OperatorKind.Hot:
      return 'hot-region-schedule-limit';
    default:
      return undefined;
  }
}

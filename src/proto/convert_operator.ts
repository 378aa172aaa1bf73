// Operators on the wire: a step as the heartbeat reply a Region leader acts on, and an
// operator as `nyx operator show` prints it.
import { PeerRole, type Peer } from '../region/meta.js';
import type { StepToSend } from '../pd/schedule/operator_controller.js';
import type { Operator } from '../pd/schedule/operator.js';
import { describeStep } from '../pd/schedule/admin_operator.js';
import type { OperatorInfo } from '../proto-gen/nyx/pd/OperatorInfo.js';
import type { RegionHeartbeatResponse } from '../proto-gen/nyx/pd/RegionHeartbeatResponse.js';
import type { OperatorInfo__Output } from '../proto-gen/nyx/pd/OperatorInfo.js';
import { epochFromProto, epochToProto, peerToProto, regionToProto } from './convert_meta.js';
import { toUint64, uint64ToNumber } from './uint64.js';

/** The heartbeat reply fields of a step (header and ids are the caller's). */
export function stepToProto(s: StepToSend): Omit<RegionHeartbeatResponse, 'header'> {
  const { step, region, leader } = s;
  const base = {
    regionId: toUint64(region.id),
    regionEpoch: epochToProto(region.epoch),
    targetPeer: peerToProto(leader),
  };
  const peerOn = (store: number, id: number, role: PeerRole): Peer => ({
    id,
    storeId: store,
    role,
  });
  switch (step.kind) {
    case 'TransferLeader': {
      const to = region.peers.find((p) => p.storeId === step.toStore);
      return to ? { ...base, transferLeader: { peer: peerToProto(to) } } : base;
    }
    case 'AddLearner':
      return {
        ...base,
        changePeer: {
          peer: peerToProto(peerOn(step.toStore, step.peerId, PeerRole.Learner)),
          changeType: 'AddLearnerNode',
        },
      };
    case 'PromoteLearner':
      return {
        ...base,
        changePeer: {
          peer: peerToProto(peerOn(step.toStore, step.peerId, PeerRole.Voter)),
          changeType: 'AddNode',
        },
      };
    case 'RemovePeer':
      return {
        ...base,
        changePeer: {
          peer: peerToProto(peerOn(step.fromStore, step.peerId, PeerRole.Voter)),
          changeType: 'RemoveNode',
        },
      };
    case 'ChangePeersJoint':
      return {
        ...base,
        changePeerV2: {
          changes: [
            ...step.promote.map((p) => ({
              peer: peerToProto(peerOn(p.storeId, p.peerId, PeerRole.Voter)),
              changeType: 'AddNode' as const,
            })),
            ...step.demote.map((p) => ({
              peer: peerToProto(peerOn(p.storeId, p.peerId, PeerRole.Learner)),
              changeType: 'AddLearnerNode' as const,
            })),
          ],
        },
      };
    case 'SplitRegion':
      return { ...base, splitRegion: { keys: step.keys } };
    case 'MergeRegion':
      return { ...base, mergeRegion: { target: regionToProto(step.target) } };
  }
}

export function operatorToProto(op: Operator): OperatorInfo {
  return {
    id: toUint64(op.id),
    regionId: toUint64(op.regionId),
    desc: op.desc,
    kind: op.kind,
    priority: op.priority,
    steps: op.steps.map((s) => ({ kind: s.kind, desc: describeStep(s) })),
    currentStep: op.currentStep,
    status: op.status,
    regionEpoch: epochToProto(op.epoch),
    createdAtMs: toUint64(op.createdAtMs),
    endedAtMs: toUint64(op.endedAtMs ?? 0),
    timeoutMs: toUint64(op.timeoutMs),
  };
}

/** An operator as clients see it. */
export interface OperatorView {
  id: number;
  regionId: number;
  desc: string;
  kind: string;
  priority: number;
  steps: { kind: string; desc: string }[];
  currentStep: number;
  status: string;
  epoch: { confVer: number; version: number };
  createdAtMs: number;
  endedAtMs?: number;
  timeoutMs: number;
}

export function operatorFromProto(o: OperatorInfo__Output): OperatorView {
  const ended = uint64ToNumber(o.endedAtMs, 'ended at');
  return {
    id: uint64ToNumber(o.id, 'operator id'),
    regionId: uint64ToNumber(o.regionId, 'region id'),
    desc: o.desc,
    kind: o.kind,
    priority: o.priority,
    steps: o.steps.map((s) => ({ kind: s.kind, desc: s.desc })),
    currentStep: o.currentStep,
    status: o.status,
    epoch: epochFromProto(o.regionEpoch),
    createdAtMs: uint64ToNumber(o.createdAtMs, 'created at'),
    ...(ended > 0 ? { endedAtMs: ended } : {}),
    timeoutMs: uint64ToNumber(o.timeoutMs, 'timeout'),
  };
}

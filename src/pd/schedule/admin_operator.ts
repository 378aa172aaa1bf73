// Operators asked for by hand (`nyx operator add ...`, `nyx region transfer-leader`),
// after PD's admin operators (pd/server/handler.go). Each kind becomes the steps PD's
// operator builder would make:
//
//   add-learner      AddLearner
//   add-peer         AddLearner → PromoteLearner (a voter joins as a learner, catches up
//                    by snapshot, then votes: issue 9 §3)
//   remove-peer      [TransferLeader away if it leads] → RemovePeer (never the leader)
//   transfer-leader  TransferLeader (to a voter)
//   move-peer        AddLearner on the target → [TransferLeader away if the source
//                    leads] → ChangePeersJoint (promote the new, demote the old: joint
//                    consensus, Raft thesis §4.3) → RemovePeer of the demoted source;
//                    a learner source is simply replaced: AddLearner → RemovePeer.
import type { RegionInfo } from '../cluster.js';
import { PdError, PdErrorCode } from '../errors.js';
import { PeerRole, isVoterRole, type Peer, type StoreId } from '../../region/meta.js';
import {
  OperatorKind,
  OperatorPriority,
  OperatorStatus,
  type Operator,
  type OperatorStep,
} from './operator.js';

export const ADMIN_OPERATOR_KINDS = [
  'add-peer',
  'add-learner',
  'remove-peer',
  'transfer-leader',
  'move-peer',
] as const;
export type AdminOperatorKind = (typeof ADMIN_OPERATOR_KINDS)[number];

/** How many stores each kind names. */
const STORE_ARGS: Record<AdminOperatorKind, number> = {
  'add-peer': 1,
  'add-learner': 1,
  'remove-peer': 1,
  'transfer-leader': 1,
  'move-peer': 2,
};

/** Default timeouts: a snapshot may have to travel for steps that add a peer. */
const TIMEOUT_MS: Record<AdminOperatorKind, number> = {
  'add-peer': 10 * 60_000,
  'add-learner': 10 * 60_000,
  'remove-peer': 60_000,
  'transfer-leader': 30_000,
  'move-peer': 10 * 60_000,
};

export interface AdminOperatorContext {
  allocId: () => number;
  now: () => number;
  /** Why a store cannot take part (Down, Tombstone, not registered), or undefined. */
  storeUnusable: (id: StoreId) => string | undefined;
}

export function isAdminOperatorKind(k: string): k is AdminOperatorKind {
  return (ADMIN_OPERATOR_KINDS as readonly string[]).includes(k);
}

export function buildAdminOperator(
  info: RegionInfo,
  kind: string,
  stores: StoreId[],
  timeoutMs: number | undefined,
  ctx: AdminOperatorContext,
): Operator {
  if (!isAdminOperatorKind(kind))
    throw invalid(
      `unknown operator kind ${JSON.stringify(kind)}; one of ${ADMIN_OPERATOR_KINDS.join(', ')}`,
    );
  if (stores.length !== STORE_ARGS[kind])
    throw invalid(`${kind} takes ${STORE_ARGS[kind]} store(s), got ${stores.length}`);
  const region = info.region;
  const leader = info.leader;
  if (!leader)
    throw new PdError(PdErrorCode.ServerIsBusy, `region ${region.id} has no known leader yet`);
  const on = (s: StoreId) => region.peers.find((p) => p.storeId === s);
  const usable = (s: StoreId) => {
    const why = ctx.storeUnusable(s);
    if (why) throw new PdError(PdErrorCode.StoreUnavailable, `store ${s} ${why}`);
  };
  const mustHave = (s: StoreId): Peer => {
    const p = on(s);
    if (!p)
      throw new PdError(PdErrorCode.PeerNotFound, `region ${region.id} has no peer on store ${s}`);
    return p;
  };
  const mustNotHave = (s: StoreId) => {
    const p = on(s);
    if (p)
      throw new PdError(
        PdErrorCode.PeerNotFound,
        `region ${region.id} has peer ${p.id} on store ${s} already`,
      );
  };
  /** Leadership away from store s, to another voter (not `except`). */
  const transferAway = (s: StoreId, except?: StoreId): OperatorStep[] => {
    if (leader.storeId !== s) return [];
    const to = region.peers.find(
      (p) =>
        p.storeId !== s &&
        p.storeId !== except &&
        isVoterRole(p.role) &&
        !ctx.storeUnusable(p.storeId),
    );
    if (!to)
      throw invalid(`region ${region.id}: no other voter to take leadership from store ${s}`);
    return [{ kind: 'TransferLeader', fromStore: s, toStore: to.storeId }];
  };

  let steps: OperatorStep[];
  let opKind = OperatorKind.Admin;
  switch (kind) {
    case 'add-learner':
    case 'add-peer': {
      const s = stores[0]!;
      usable(s);
      mustNotHave(s);
      const peerId = ctx.allocId();
      steps = [{ kind: 'AddLearner', toStore: s, peerId }];
      if (kind === 'add-peer') steps.push({ kind: 'PromoteLearner', toStore: s, peerId });
      break;
    }
    case 'remove-peer': {
      const s = stores[0]!;
      const p = mustHave(s);
      steps = [...transferAway(s), { kind: 'RemovePeer', fromStore: s, peerId: p.id }];
      break;
    }
    case 'transfer-leader': {
      const s = stores[0]!;
      usable(s);
      const p = mustHave(s);
      if (p.role !== PeerRole.Voter)
        throw invalid(`peer ${p.id} on store ${s} is a ${p.role}; only a voter can lead`);
      steps =
        leader.storeId === s
          ? []
          : [{ kind: 'TransferLeader', fromStore: leader.storeId, toStore: s }];
      opKind = OperatorKind.Leader;
      if (steps.length === 0) throw invalid(`store ${s} leads region ${region.id} already`);
      break;
    }
    case 'move-peer': {
      const [from, to] = [stores[0]!, stores[1]!];
      if (from === to) throw invalid('move-peer needs two different stores');
      const old = mustHave(from);
      usable(to);
      mustNotHave(to);
      const peerId = ctx.allocId();
      const add: OperatorStep = { kind: 'AddLearner', toStore: to, peerId };
      const remove: OperatorStep = { kind: 'RemovePeer', fromStore: from, peerId: old.id };
      steps =
        old.role === PeerRole.Learner
          ? [add, remove]
          : [
              add,
              ...transferAway(from, to),
              {
                kind: 'ChangePeersJoint',
                promote: [{ storeId: to, peerId }],
                demote: [{ storeId: from, peerId: old.id }],
              },
              remove,
            ];
      opKind = OperatorKind.Region;
      break;
    }
  }
  return {
    id: ctx.allocId(),
    regionId: region.id,
    desc: `admin: ${kind} ${stores.join(' ')}`,
    kind: opKind,
    priority: OperatorPriority.High,
    steps,
    epoch: { ...region.epoch },
    createdAtMs: ctx.now(),
    timeoutMs: timeoutMs && timeoutMs > 0 ? timeoutMs : TIMEOUT_MS[kind],
    currentStep: 0,
    status: OperatorStatus.Running,
  };
}

/** A step in words, for `nyx operator show`. */
export function describeStep(s: OperatorStep): string {
  switch (s.kind) {
    case 'TransferLeader':
      return `transfer leader from store ${s.fromStore} to store ${s.toStore}`;
    case 'AddLearner':
      return `add learner ${s.peerId} on store ${s.toStore}`;
    case 'PromoteLearner':
      return `promote learner ${s.peerId} on store ${s.toStore}`;
    case 'RemovePeer':
      return `remove peer ${s.peerId} on store ${s.fromStore}`;
    case 'ChangePeersJoint':
      return `joint change: promote ${s.promote.map((p) => `${p.peerId}@${p.storeId}`).join(', ') || '-'}, demote ${s.demote.map((p) => `${p.peerId}@${p.storeId}`).join(', ') || '-'}`;
    case 'SplitRegion':
      return `split at ${s.keys.length} key(s)`;
    case 'MergeRegion':
      return `merge into region ${s.target.id}`;
  }
}

function invalid(msg: string): PdError {
  return new PdError(PdErrorCode.InvalidArgument, msg);
}

// PD's operator controller (tikv/pd server/schedule/operator_controller.go): admits
// operators (at most one per Region; a higher priority replaces a lower one; snapshot
// limits per store), and drives each one step per leader heartbeat of its Region — the
// heartbeat shows whether the current step is done (steps are checked against the Region
// as reported: peers, roles, leader, pending peers, epoch), and while it is not, the step
// is (re)sent in the heartbeat reply, at most once per resendMs. Every operator ends in
// exactly one final state; the last few hundred ended ones are kept for `nyx operator show`.
import type { Peer, Region, RegionId, StoreId } from '../../region/meta.js';
import { PeerRole, isJoint } from '../../region/meta.js';
import {
  OperatorStatus,
  type AddOperatorResult,
  type Operator,
  type OperatorSink,
  type OperatorStep,
} from './operator.js';

/** What a leader heartbeat tells the controller. */
export interface HeartbeatView {
  region: Region;
  leader: Peer;
  pendingPeers: readonly Peer[];
}

/** A step to send to the Region's leader now. */
export interface StepToSend {
  op: Operator;
  step: OperatorStep;
  region: Region;
  leader: Peer;
}

export interface OperatorControllerOptions {
  /** Wall-clock ms. */
  now: () => number;
  /** Allocates operator ids (PD's id allocator: unique for the cluster's life). */
  allocId: () => number;
  /** Snapshots in flight per store (PD setting `store-limit`). */
  storeLimit: () => number;
  /** A step is sent again after this long without progress (ms). */
  resendMs?: number;
  /** Ended operators kept for show/list. */
  historySize?: number;
  /** Each operator that ends, once (metrics, logs). */
  onEnd?: (op: Operator) => void;
}

const DEFAULT_RESEND_MS = 1000;
const DEFAULT_HISTORY = 300;

/** conf_ver bumps a step makes when it is done (a joint change enters, then leaves). */
export function confVerBumps(step: OperatorStep): number {
  switch (step.kind) {
    case 'AddLearner':
    case 'PromoteLearner':
    case 'RemovePeer':
      return 1;
    case 'ChangePeersJoint':
      return 2;
    case 'MergeRegion':
      return 1; // PrepareMerge
    default:
      return 0;
  }
}

/** Whether the Region as reported shows the step done. */
export function isStepDone(step: OperatorStep, hb: HeartbeatView, op: Operator): boolean {
  const r = hb.region;
  const peer = (id: number) => r.peers.find((p) => p.id === id);
  switch (step.kind) {
    case 'TransferLeader':
      return hb.leader.storeId === step.toStore;
    case 'AddLearner':
      return peer(step.peerId) !== undefined;
    case 'PromoteLearner':
      return peer(step.peerId)?.role === PeerRole.Voter;
    case 'RemovePeer':
      return peer(step.peerId) === undefined;
    case 'ChangePeersJoint':
      return (
        !isJoint(r) &&
        step.promote.every((p) => peer(p.peerId)?.role === PeerRole.Voter) &&
        step.demote.every((p) => peer(p.peerId)?.role !== PeerRole.Voter)
      );
    case 'SplitRegion':
      return r.epoch.version > op.epoch.version;
    case 'MergeRegion':
      return false; // the source's own heartbeats never show it (see onRegionsReplaced)
  }
}

/**
 * A step the Region as reported can never complete: a learner to add on a store that
 * holds another peer of the Region already (a store hosts one replica of a Region; the
 * leader refuses such a change), or a learner to promote that is gone. Another operator
 * got there first — a balance move replaced half-way leaves its learner behind — and the
 * peer's conf change may even look like this step's own (unexplained() counts bumps, not
 * peers), so the operator would wait for its timeout and the checker that planned it would
 * find no store left to use. Ending it Stale lets the checkers plan from the Region as it is.
 */
function cannotBeDone(step: OperatorStep, r: Region): boolean {
  if (step.kind === 'AddLearner')
    return r.peers.some((p) => p.storeId === step.toStore && p.id !== step.peerId);
  if (step.kind === 'PromoteLearner') return !r.peers.some((p) => p.id === step.peerId);
  return false;
}

/** A step that must wait (not be sent) until a learner it promotes has caught up. */
function waitsForCatchUp(step: OperatorStep, hb: HeartbeatView): boolean {
  const pending = new Set(hb.pendingPeers.map((p) => p.id));
  if (step.kind === 'PromoteLearner') return pending.has(step.peerId);
  if (step.kind === 'ChangePeersJoint') return step.promote.some((p) => pending.has(p.peerId));
  return false;
}

/** The stores whose snapshot slots an operator holds while it runs (its AddLearner targets). */
function snapshotStores(op: Operator): StoreId[] {
  const out: StoreId[] = [];
  op.steps.forEach((s, i) => {
    // The slot is held from admission until the step after the learner's add (its
    // promotion, which waits for the catch-up) is done.
    if (s.kind === 'AddLearner' && op.currentStep <= i + 1) out.push(s.toStore);
  });
  return out;
}

function storesOf(step: OperatorStep): StoreId[] {
  switch (step.kind) {
    case 'TransferLeader':
      return [step.fromStore, step.toStore];
    case 'AddLearner':
    case 'PromoteLearner':
      return [step.toStore];
    case 'RemovePeer':
      return [step.fromStore];
    case 'ChangePeersJoint':
      return [...step.promote, ...step.demote].map((p) => p.storeId);
    case 'SplitRegion':
    case 'MergeRegion':
      return [];
  }
}

export class OperatorController implements OperatorSink {
  private readonly ops = new Map<RegionId, Operator>();
  private readonly lastSent = new Map<number, { step: number; atMs: number }>();
  /** Ended operators, oldest first. */
  private readonly ended: Operator[] = [];
  private readonly resendMs: number;
  private readonly endListeners: ((op: Operator) => void)[] = [];
  private readonly historySize: number;

  constructor(private readonly opts: OperatorControllerOptions) {
    this.resendMs = opts.resendMs ?? DEFAULT_RESEND_MS;
    this.historySize = opts.historySize ?? DEFAULT_HISTORY;
  }

  nextOperatorId(): number {
    return this.opts.allocId();
  }

  add(op: Operator): AddOperatorResult {
    this.expire();
    if (op.status !== OperatorStatus.Running || op.currentStep !== 0)
      return { ok: false, reason: `operator ${op.id} is not new (status ${op.status})` };
    if (op.steps.length === 0) return { ok: false, reason: 'operator without steps' };
    const old = this.ops.get(op.regionId);
    if (old && old.priority >= op.priority)
      return {
        ok: false,
        reason: `region ${op.regionId} has an operator already: ${old.desc} (id ${old.id}, step ${old.currentStep + 1}/${old.steps.length})`,
      };
    const limit = this.opts.storeLimit();
    for (const s of snapshotStores(op)) {
      const busy = this.runningOnStore(s).filter(
        (o) => o !== old && snapshotStores(o).includes(s),
      ).length;
      if (busy >= limit)
        return {
          ok: false,
          reason: `store ${s} has ${busy} snapshots in flight, the store limit (store-limit ${limit})`,
        };
    }
    if (old) this.end(old, OperatorStatus.Replaced);
    this.ops.set(op.regionId, op);
    return { ok: true };
  }

  running(regionId: RegionId): Operator | undefined {
    this.expire();
    return this.ops.get(regionId);
  }

  runningOnStore(storeId: StoreId): Operator[] {
    return [...this.ops.values()].filter((op) =>
      op.steps.some((s) => storesOf(s).includes(storeId)),
    );
  }

  allRunning(): Operator[] {
    this.expire();
    return [...this.ops.values()].sort((a, b) => a.id - b.id);
  }

  /** The last ended operators, newest first. */
  history(): Operator[] {
    return [...this.ended].reverse();
  }

  /** The Region's running operator, else its most recently ended one. */
  latest(regionId: RegionId): Operator | undefined {
    const r = this.running(regionId);
    if (r) return r;
    for (let i = this.ended.length - 1; i >= 0; i--)
      if (this.ended[i]!.regionId === regionId) return this.ended[i];
    return undefined;
  }

  cancel(regionId: RegionId): Operator | undefined {
    const op = this.running(regionId);
    if (op) this.end(op, OperatorStatus.Cancelled);
    return op;
  }

  /**
   * A leader heartbeat of a Region: advance its operator past every step the Region shows
   * done, end it (Finished, Stale, TimedOut), or return the step to (re)send now.
   */
  onHeartbeat(hb: HeartbeatView): StepToSend | undefined {
    this.expire();
    const op = this.ops.get(hb.region.id);
    if (!op) return undefined;
    while (op.currentStep < op.steps.length && isStepDone(op.steps[op.currentStep]!, hb, op))
      op.currentStep++;
    if (op.currentStep >= op.steps.length) {
      this.end(op, OperatorStatus.Finished);
      return undefined;
    }
    const step = op.steps[op.currentStep]!;
    if (this.unexplained(op, hb.region) || cannotBeDone(step, hb.region)) {
      this.end(op, OperatorStatus.Stale);
      return undefined;
    }
    if (waitsForCatchUp(step, hb)) return undefined;
    const now = this.opts.now();
    const last = this.lastSent.get(op.id);
    if (last && last.step === op.currentStep && now - last.atMs < this.resendMs) return undefined;
    this.lastSent.set(op.id, { step: op.currentStep, atMs: now });
    return { op, step, region: hb.region, leader: hb.leader };
  }

  /**
   * Regions an accepted heartbeat replaced in PD's map (cluster.ts regionHeartbeat): the
   * source of a merge ends Finished when it was at its MergeRegion step — the target's
   * wider report is the step done; any other operator of a replaced Region is Stale.
   */
  onRegionsReplaced(ids: readonly RegionId[]): void {
    for (const id of ids) {
      const op = this.ops.get(id);
      if (!op) continue;
      const step = op.steps[op.currentStep];
      if (step?.kind === 'MergeRegion') {
        op.currentStep = op.steps.length;
        this.end(op, OperatorStatus.Finished);
      } else {
        this.end(op, OperatorStatus.Stale);
      }
    }
  }

  /** End every operator past its timeout. */
  expire(): void {
    const now = this.opts.now();
    for (const op of [...this.ops.values()])
      if (now - op.createdAtMs > op.timeoutMs) this.end(op, OperatorStatus.TimedOut);
  }

  /**
   * The epoch moved in a way the steps done so far (and the current one, partly done)
   * cannot explain: a split or merge under a membership operator, or more conf changes
   * than the steps make — someone else changed the Region, and the remaining steps were
   * computed for a Region that no longer exists.
   */
  private unexplained(op: Operator, r: Region): boolean {
    let confVer = op.epoch.confVer;
    let version = op.epoch.version;
    for (let i = 0; i <= op.currentStep && i < op.steps.length; i++) {
      confVer += confVerBumps(op.steps[i]!);
      const k = op.steps[i]!.kind;
      if (k === 'SplitRegion' || k === 'MergeRegion') version += 1;
    }
    return r.epoch.confVer > confVer || r.epoch.version > version;
  }

  private end(op: Operator, status: OperatorStatus): void {
    if (this.ops.get(op.regionId) === op) this.ops.delete(op.regionId);
    if (op.status !== OperatorStatus.Running) return;
    op.status = status;
    op.endedAtMs = this.opts.now();
    this.lastSent.delete(op.id);
    this.ended.push(op);
    while (this.ended.length > this.historySize) this.ended.shift();
    this.opts.onEnd?.(op);
    for (const f of this.endListeners) f(op);
  }

  /** Call f for every operator that ends from now on. */
  onEnded(f: (op: Operator) => void): void {
    this.endListeners.push(f);
  }
}

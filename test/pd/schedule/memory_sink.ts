// The layer below the schedulers, in memory: an OperatorSink that admits one operator per
// Region (a higher priority replaces a lower one), refuses a plan computed against an old
// epoch, and lets a test finish operators once it has applied their steps.
import type { RegionId, StoreId } from '../../../src/region/meta.js';
import {
  OperatorStatus,
  type AddOperatorResult,
  type Operator,
  type OperatorSink,
  type OperatorStep,
} from '../../../src/pd/schedule/operator.js';
import type { PdCluster } from '../../../src/pd/cluster.js';
import { epochEqual } from '../../../src/region/meta.js';

export class MemorySink implements OperatorSink {
  private readonly ops = new Map<RegionId, Operator>();
  /** Every operator ever admitted, in order. */
  readonly admitted: Operator[] = [];
  private nextId = 1;

  constructor(private readonly cluster: PdCluster) {}

  add(op: Operator): AddOperatorResult {
    const current = this.cluster.getRegionById(op.regionId);
    if (!current) return { ok: false, reason: `region ${op.regionId} not found` };
    if (!epochEqual(current.region.epoch, op.epoch))
      return { ok: false, reason: `region ${op.regionId} epoch changed` };
    const old = this.ops.get(op.regionId);
    if (old) {
      if (old.priority >= op.priority)
        return { ok: false, reason: `operator ${old.id} is running on region ${op.regionId}` };
      old.status = OperatorStatus.Replaced;
    }
    this.ops.set(op.regionId, op);
    this.admitted.push(op);
    return { ok: true };
  }

  running(regionId: RegionId): Operator | undefined {
    return this.ops.get(regionId);
  }

  runningOnStore(storeId: StoreId): Operator[] {
    return [...this.ops.values()].filter((op) => op.steps.some((s) => touches(s, storeId)));
  }

  nextOperatorId(): number {
    return this.nextId++;
  }

  all(): Operator[] {
    return [...this.ops.values()];
  }

  end(regionId: RegionId, status: OperatorStatus): void {
    const op = this.ops.get(regionId);
    if (!op) throw new Error(`no operator on region ${regionId}`);
    op.status = status;
    this.ops.delete(regionId);
  }
}

function touches(s: OperatorStep, store: StoreId): boolean {
  switch (s.kind) {
    case 'TransferLeader':
      return s.fromStore === store || s.toStore === store;
    case 'AddLearner':
    case 'PromoteLearner':
      return s.toStore === store;
    case 'RemovePeer':
      return s.fromStore === store;
    case 'ChangePeersJoint':
      return [...s.promote, ...s.demote].some((p) => p.storeId === store);
    case 'SplitRegion':
    case 'MergeRegion':
      return false;
  }
}

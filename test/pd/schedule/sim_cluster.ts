// A PD with a simulated cluster around it, for scheduling tests: stores that heartbeat,
// Regions whose leaders report, and an executor that carries out an operator's steps the
// way a Region leader would (each membership change bumps conf_ver, a leader transfer
// bumps the term) and reports the result to PD through ordinary Region heartbeats. It
// stands in for the stores and the operator controller — the layers below the code
// under test — never for the schedulers themselves.
import type { TestContext } from 'node:test';
import type { PlacementDriver } from '../../../src/pd/placement_driver.js';
import { ScheduleCoordinator } from '../../../src/pd/schedule/coordinator.js';
import {
  OperatorStatus,
  type Operator,
  type OperatorStep,
} from '../../../src/pd/schedule/operator.js';
import {
  cloneRegion,
  PeerRole,
  type Peer,
  type Region,
  type StoreId,
} from '../../../src/region/meta.js';
import type { RegionStats } from '../../../src/pd/cluster.js';
import { StoreState } from '../../../src/pd/types.js';
import { ManualClock, openPd, tempDir } from '../helpers.js';
import { MemorySink } from './memory_sink.js';

export const START_MS = 1_700_000_000_000;

export class SimCluster {
  readonly clock = new ManualClock(START_MS);
  readonly pd: PlacementDriver;
  readonly sink: MemorySink;
  readonly coordinator: ScheduleCoordinator;
  private readonly terms = new Map<number, number>();
  /** Stores that heartbeat when time passes (the others fall silent). */
  readonly alive = new Set<StoreId>();
  /** Every leader transfer and replica move carried out: [region, from store, to store]. */
  readonly moves: { kind: 'leader' | 'replica'; region: number; from: StoreId; to: StoreId }[] = [];

  constructor(t: TestContext, opts: { stores: number; initialStores?: number; regions: number }) {
    this.pd = openPd(t, tempDir(t), {
      initialStores: opts.initialStores ?? 3,
      initialLayout: { evenSplits: opts.regions },
      now: this.clock.now,
    });
    for (let i = 1; i <= opts.stores; i++) this.addStore(i);
    this.pd.cluster.maybeBootstrap();
    this.sink = new MemorySink(this.pd.cluster);
    this.coordinator = new ScheduleCoordinator(this.pd, this.sink);
  }

  /** Registers a store and heartbeats it (bootstrap uses the lowest initialStores ids). */
  addStore(id: StoreId): void {
    this.pd.cluster.putStore({ id, address: `127.0.0.1:${20000 + id}` });
    this.pd.cluster.storeHeartbeat(id, { capacity: 1 << 30, available: 1 << 29 });
    this.alive.add(id);
  }

  regions(): Region[] {
    return this.pd.cluster.scanRegions(Buffer.alloc(0), Buffer.alloc(0)).map((i) => i.region);
  }

  leaderOf(regionId: number): Peer | undefined {
    return this.pd.cluster.getRegionById(regionId)?.leader;
  }

  /** The leader of `region` reports it (leader on `leaderStore`, which must host a voter). */
  report(region: Region, leaderStore: StoreId, stats?: RegionStats): void {
    const leader = region.peers.find((p) => p.storeId === leaderStore);
    if (!leader) throw new Error(`region ${region.id} has no peer on store ${leaderStore}`);
    const term = this.terms.get(region.id) ?? 1;
    this.terms.set(region.id, term);
    this.pd.cluster.regionHeartbeat({ region, leader, term, stats });
  }

  /** Every Region reports, its leader on pick(region) (default: its first voter). */
  reportAll(pick: (r: Region, i: number) => StoreId = (r) => r.peers[0]!.storeId): void {
    this.regions().forEach((r, i) => this.report(r, pick(r, i)));
  }

  /** Time passes: live stores heartbeat, silent ones age towards Down. */
  advance(ms: number): void {
    this.clock.advance(ms);
    for (const id of this.alive) {
      // A removed store's heartbeats are refused: like a real one, it stops.
      if (this.pd.cluster.getStore(id)?.state === StoreState.Tombstone) this.alive.delete(id);
      else this.pd.cluster.storeHeartbeat(id, { capacity: 1 << 30, available: 1 << 29 });
    }
  }

  /** Carries out the current step of an operator like a Region leader would, and reports. */
  applyStep(op: Operator): void {
    const info = this.pd.cluster.getRegionById(op.regionId)!;
    const region = cloneRegion(info.region);
    let leaderStore = info.leader!.storeId;
    const step = op.steps[op.currentStep]!;
    applyToRegion(region, step);
    if (step.kind === 'TransferLeader') {
      this.terms.set(region.id, (this.terms.get(region.id) ?? 1) + 1);
      leaderStore = step.toStore;
      this.moves.push({
        kind: 'leader',
        region: region.id,
        from: step.fromStore,
        to: step.toStore,
      });
    } else {
      region.epoch = { ...region.epoch, confVer: region.epoch.confVer + 1 };
      if (step.kind === 'RemovePeer') {
        const added = op.steps.find((s) => s.kind === 'AddLearner');
        if (added && added.kind === 'AddLearner')
          this.moves.push({
            kind: 'replica',
            region: region.id,
            from: step.fromStore,
            to: added.toStore,
          });
      }
    }
    this.report(region, leaderStore);
    op.currentStep += 1;
    if (op.currentStep === op.steps.length) this.sink.end(op.regionId, OperatorStatus.Finished);
  }

  /** One step of every running operator. */
  stepAll(): void {
    for (const op of this.sink.all()) this.applyStep(op);
  }

  /**
   * Scheduling rounds (patrol, schedulers, one step of each running operator) until a round
   * starts nothing and nothing runs. Returns the rounds taken; throws past maxRounds.
   */
  runUntilStable(maxRounds = 500): number {
    for (let round = 1; round <= maxRounds; round++) {
      const patrol = this.coordinator.patrolAll();
      const sched = this.coordinator.scheduleOnce();
      const started = patrol.submitted.length + sched.submitted.length;
      if (started === 0 && this.sink.all().length === 0) return round;
      this.stepAll();
      this.advance(100);
    }
    throw new Error(`not stable after ${maxRounds} rounds`);
  }

  regionCounts(): Map<StoreId, number> {
    const m = new Map<StoreId, number>();
    for (const s of this.pd.cluster.getAllStores(true))
      m.set(s.id, this.pd.cluster.getStoreCounts(s.id).regionCount);
    return m;
  }

  leaderCounts(): Map<StoreId, number> {
    const m = new Map<StoreId, number>();
    for (const s of this.pd.cluster.getAllStores(true))
      m.set(s.id, this.pd.cluster.getStoreCounts(s.id).leaderCount);
    return m;
  }
}

function applyToRegion(r: Region, s: OperatorStep): void {
  switch (s.kind) {
    case 'AddLearner':
      r.peers.push({ id: s.peerId, storeId: s.toStore, role: PeerRole.Learner });
      return;
    case 'PromoteLearner': {
      const p = r.peers.find((x) => x.id === s.peerId);
      if (!p || p.role !== PeerRole.Learner) throw new Error(`no learner ${s.peerId} to promote`);
      p.role = PeerRole.Voter;
      return;
    }
    case 'RemovePeer': {
      const i = r.peers.findIndex((x) => x.id === s.peerId);
      if (i < 0) throw new Error(`no peer ${s.peerId} to remove`);
      r.peers.splice(i, 1);
      return;
    }
    case 'TransferLeader':
      if (!r.peers.some((p) => p.storeId === s.toStore && p.role === PeerRole.Voter))
        throw new Error(`no voter on store ${s.toStore} to lead`);
      return;
    case 'ChangePeersJoint':
    case 'SplitRegion':
    case 'MergeRegion':
      throw new Error(`${s.kind} is not simulated`);
  }
}

// PD's scheduling loop, after PD's coordinator (tikv/pd server/cluster/coordinator.go):
//  - the patrol walks the Region map in key order, a batch every patrol-region-interval,
//    and runs the checkers (the replica checker) on each Region;
//  - every schedule-interval each running scheduler (balance-leader, balance-region, hot-region)
//    proposes moves, and Offline stores that hold nothing more become Tombstones.
// Every decision becomes an Operator handed to the OperatorSink (the operator controller,
// which drives it through the Region's leader); nothing here talks to a store.
//
// Limits, as PD's: at most leader-schedule-limit leader operators, region-schedule-limit
// replica moves and replica-schedule-limit repairs in flight; a Region has at most one
// operator (a higher-priority repair may replace a running move, the controller decides).
// The same gate runs for `nyx region explain`, so it says exactly what holds PD back.
import type { Logger } from '../../common/logger.js';
import type { RegionInfo } from '../cluster.js';
import { formatDuration } from '../config/duration.js';
import { PdError, PdErrorCode } from '../errors.js';
import type { StoreMeta } from '../types.js';
import { EMPTY_KEY, type RegionId, type StoreId } from '../../region/meta.js';
import { BALANCE_LEADER, balanceLeaderCandidates, balanceLeaderVerdict } from './balance_leader.js';
import { BALANCE_REGION, balanceRegionCandidates, balanceRegionVerdict } from './balance_region.js';
import { HOT_REGION, hotRegionCandidates, hotRegionVerdict } from './hot_region.js';
import type { Operator, OperatorSink } from './operator.js';
import {
  describeStep,
  limitSettingOf,
  materialize,
  priorityName,
  type OperatorPlan,
} from './plan.js';
import { checkReplicas } from './replica_checker.js';
import { VersionClock, checkMerge } from './merge_checker.js';
import {
  SchedulerRegistry,
  type SchedulerPersistence,
  type SchedulerView,
} from './scheduler_registry.js';
import { ClusterSnapshot, type ScheduleSource } from './snapshot.js';
import { removeStore, tombstoneDrainedStores } from './store_removal.js';
import type { Verdict } from './verdict.js';

/** Regions the patrol checks per patrol-region-interval (PD's patrolScanRegionLimit). */
export const PATROL_BATCH = 128;
/** Operators one scheduler may start per run (PD's balance-leader batch). */
export const SCHEDULE_BATCH = 4;

/** What the coordinator needs of a PD (a PlacementDriver has it). */
export interface CoordinatorPd extends ScheduleSource {
  readonly meta: SchedulerPersistence;
}

type SchedulerRun = (snap: ClusterSnapshot, rotation: number) => Generator<Verdict>;
type SchedulerExplain = (info: RegionInfo, snap: ClusterSnapshot) => Verdict;

const SCHEDULERS: ReadonlyMap<string, { run: SchedulerRun; explain: SchedulerExplain }> = new Map([
  [BALANCE_LEADER, { run: balanceLeaderCandidates, explain: (i, s) => balanceLeaderVerdict(i, s) }],
  [BALANCE_REGION, { run: balanceRegionCandidates, explain: (i, s) => balanceRegionVerdict(i, s) }],
  [HOT_REGION, { run: hotRegionCandidates, explain: hotRegionVerdict }],
]);

/** An operator as explain and the CLI show it. */
export interface OperatorSummary {
  id: number;
  desc: string;
  kind: string;
  priority: string;
  status: string;
  steps: string[];
  currentStep: number;
  ageMs: number;
}

export interface VerdictView {
  source: string;
  outcome: Verdict['outcome'];
  summary: string;
  details: string[];
  /** The operator it would start, step by step (empty when it would do nothing). */
  steps: string[];
}

export interface RegionExplanation {
  region: RegionInfo;
  /** Does this PD carry operators out (has an operator controller)? */
  executing: boolean;
  running: OperatorSummary | undefined;
  /** ms since the patrol last checked this Region (undefined: not yet since PD started). */
  patrolledAgoMs: number | undefined;
  verdicts: VerdictView[];
}

export interface RoundResult {
  submitted: Operator[];
  /** Plans the gate or the sink refused, with the reason. */
  refused: { plan: OperatorPlan; reason: string }[];
}

export class ScheduleCoordinator {
  readonly schedulers: SchedulerRegistry;
  private patrolCursor: Buffer = EMPTY_KEY;
  private readonly patrolledAt = new Map<RegionId, number>();
  /** When each Region reached its version (the merge checker's split-merge-interval). */
  private readonly versions = new VersionClock();
  private rotation = 0;
  private patrolTimer: NodeJS.Timeout | undefined;
  private scheduleTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly pd: CoordinatorPd,
    /** The operator controller; undefined: decide and explain, but start nothing. */
    private readonly sink: OperatorSink | undefined,
    private readonly log?: Logger,
  ) {
    this.schedulers = new SchedulerRegistry(pd.meta, () => pd.now());
  }

  /** Starts the patrol and the schedulers on timers (their intervals read live from config). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const patrol = () => {
      this.guard('patrol', () => this.patrolOnce());
      if (this.running)
        this.patrolTimer = unref(
          setTimeout(patrol, this.pd.config.values['patrol-region-interval']),
        );
    };
    const schedule = () => {
      this.guard('schedule', () => this.scheduleOnce());
      if (this.running)
        this.scheduleTimer = unref(
          setTimeout(schedule, this.pd.config.values['schedule-interval']),
        );
    };
    patrol();
    schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.patrolTimer);
    clearTimeout(this.scheduleTimer);
  }

  /** The checkers over the next batch of Regions (wrapping at the end of the key space). */
  patrolOnce(batch = PATROL_BATCH): RoundResult {
    const result: RoundResult = { submitted: [], refused: [] };
    if (!this.pd.cluster.isBootstrapped()) return result;
    const regions = this.pd.cluster.scanRegions(this.patrolCursor, EMPTY_KEY, batch);
    const last = regions[regions.length - 1];
    this.patrolCursor =
      !last || last.region.endKey.length === 0 || regions.length < batch
        ? EMPTY_KEY
        : Buffer.from(last.region.endKey);
    if (!this.sink) return result;
    const snap = new ClusterSnapshot(this.pd, this.sink);
    for (const info of regions) {
      this.patrolledAt.set(info.region.id, snap.now);
      const v = checkReplicas(info, snap);
      if (v.outcome === 'act') this.submit(v, snap, result);
      else {
        const m = checkMerge(info, snap, this.versions);
        if (m.outcome === 'act') this.submit(m, snap, result);
      }
    }
    if (this.patrolCursor.length === 0)
      this.versions.retain((id) => this.pd.cluster.getRegionById(id) !== undefined);
    return result;
  }

  /** Patrols until every Region was checked once (a full pass; tests use it). */
  patrolAll(): RoundResult {
    const out: RoundResult = { submitted: [], refused: [] };
    this.patrolCursor = EMPTY_KEY;
    do {
      const r = this.patrolOnce();
      out.submitted.push(...r.submitted);
      out.refused.push(...r.refused);
    } while (this.patrolCursor.length > 0);
    return out;
  }

  /** One run of every running scheduler; then drained Offline stores become Tombstones. */
  scheduleOnce(): RoundResult {
    const result: RoundResult = { submitted: [], refused: [] };
    if (!this.pd.cluster.isBootstrapped()) return result;
    for (const id of tombstoneDrainedStores(this.pd))
      this.log?.info({ store: id }, `store ${id} is drained: now a Tombstone`);
    if (!this.sink) return result;
    this.rotation += 1;
    for (const [name, s] of SCHEDULERS) {
      if (!this.schedulers.isRunning(name)) continue;
      const snap = new ClusterSnapshot(this.pd, this.sink);
      let started = 0;
      for (const v of s.run(snap, this.rotation)) {
        const before = result.submitted.length;
        const limited = this.submit(v, snap, result);
        if (result.submitted.length > before) started += 1;
        if (limited || started >= SCHEDULE_BATCH) break;
      }
    }
    return result;
  }

  removeStore(id: StoreId): StoreMeta {
    const s = removeStore(this.pd, id);
    this.log?.info({ store: id }, `store ${id} is Offline: draining its replicas`);
    // A store that holds nothing is done at once.
    for (const t of tombstoneDrainedStores(this.pd))
      this.log?.info({ store: t }, `store ${t} is drained: now a Tombstone`);
    return this.pd.cluster.getStore(id) ?? s;
  }

  /** Why PD does or does not act on a Region now: every checker's and scheduler's verdict. */
  explain(regionId: RegionId): RegionExplanation {
    const info = this.pd.cluster.getRegionById(regionId);
    if (!info) throw new PdError(PdErrorCode.RegionNotFound, `region ${regionId} not found`);
    const snap = new ClusterSnapshot(this.pd, this.sink);
    const verdicts: Verdict[] = [this.gate(checkReplicas(info, snap), snap)];
    for (const [name, s] of SCHEDULERS) {
      const v = this.gate(s.explain(info, snap), snap);
      const view = this.schedulers.view(name);
      if (view.state !== 'running') verdicts.push(switchedOff(v, view, snap.now));
      else verdicts.push(v);
    }
    verdicts.push(this.gate(checkMerge(info, snap, this.versions), snap));
    const running = snap.runningOn(regionId);
    const at = this.patrolledAt.get(regionId);
    return {
      region: info,
      executing: this.sink !== undefined,
      running: running && summarizeOperator(running, snap.now),
      patrolledAgoMs: at === undefined ? undefined : snap.now - at,
      verdicts: verdicts.map((v) => ({
        source: v.source,
        outcome: v.outcome,
        summary: v.summary,
        details: v.details,
        steps: v.plan ? v.plan.steps.map(describeStep) : [],
      })),
    };
  }

  /**
   * Turns an 'act' verdict into 'held-back' when something stops it now: no controller,
   * an operator already on the Region, or the limit of its kind reached.
   */
  private gate(v: Verdict, snap: ClusterSnapshot): Verdict {
    if (v.outcome !== 'act' || !v.plan) return v;
    const why = this.holdBack(v.plan, snap);
    return why ? { ...v, outcome: 'held-back', summary: `${v.summary}, but ${why}` } : v;
  }

  private holdBack(plan: OperatorPlan, snap: ClusterSnapshot): string | undefined {
    if (!this.sink) return 'this PD has no operator controller to carry it out';
    const running = snap.runningOn(plan.regionId);
    // A more urgent operator may take a running one's place (operator.ts: Replaced).
    if (running && running.priority >= plan.priority)
      return `operator ${running.id} (${running.desc}) is running on it`;
    const setting = limitSettingOf(plan.kind);
    if (setting) {
      const limit = snap.config[setting];
      const n = snap.runningCount(plan.kind);
      if (n >= limit) return `${setting} ${limit} reached (${n} running)`;
    }
    return undefined;
  }

  /** Submits an 'act' verdict; returns true when its kind's limit is reached (stop the run). */
  private submit(v: Verdict, snap: ClusterSnapshot, out: RoundResult): boolean {
    const plan = v.plan!;
    const why = this.holdBack(plan, snap);
    if (why) {
      out.refused.push({ plan, reason: why });
      return why.includes('reached');
    }
    const sink = this.sink!;
    const op = materialize(
      plan,
      { allocPeerId: () => this.pd.cluster.allocId(), operatorId: sink.nextOperatorId() },
      snap.now,
    );
    const res = sink.add(op);
    if (!res.ok) {
      out.refused.push({ plan, reason: res.reason });
      this.log?.debug(
        { region: plan.regionId, desc: plan.desc, reason: res.reason },
        'operator not admitted',
      );
      return false;
    }
    snap.noteSubmitted(plan, op);
    const step = op.steps[0];
    if (step?.kind === 'MergeRegion') this.versions.noteMerge(op.regionId, step.target.id, op.id);
    out.submitted.push(op);
    this.log?.info(
      { region: plan.regionId, operator: op.id, steps: op.steps.map(describeStep), why: v.summary },
      `operator ${op.id}: ${plan.desc}`,
    );
    return false;
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log?.error({ err: e }, `scheduling ${what} failed`);
    }
  }
}

function switchedOff(v: Verdict, view: SchedulerView, now: number): Verdict {
  const state =
    view.state === 'paused'
      ? `paused for ${formatDuration(Math.max(0, view.pausedUntilMs - now))} more`
      : 'removed (nyx scheduler add ' + view.name + ')';
  return { ...v, outcome: 'off', summary: `${state}; were it running: ${v.summary}` };
}

export function summarizeOperator(op: Operator, now: number): OperatorSummary {
  return {
    id: op.id,
    desc: op.desc,
    kind: op.kind,
    priority: priorityName(op.priority),
    status: op.status,
    steps: op.steps.map(describeStep),
    currentStep: op.currentStep,
    ageMs: Math.max(0, now - op.createdAtMs),
  };
}

function unref(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref();
  return t;
}

// Conversions for PD's scheduling messages (scheduler set, region explain), shared by the
// PD service and the PD client so both ends agree on one mapping.
import type {
  ExplainRegionResponse,
  ExplainRegionResponse__Output,
} from '../proto-gen/nyx/pd/ExplainRegionResponse.js';
import type { SchedulerInfo, SchedulerInfo__Output } from '../proto-gen/nyx/pd/SchedulerInfo.js';
import type { RegionExplanation, VerdictView } from '../pd/schedule/coordinator.js';
import type { SchedulerView } from '../pd/schedule/scheduler_registry.js';
import { regionInfoFromProto, regionInfoToProto } from './convert_pd.js';
import { int64ToNumber, toInt64, toUint64, uint64ToNumber } from './uint64.js';

export function schedulerToProto(s: SchedulerView): SchedulerInfo {
  return {
    name: s.name,
    description: s.description,
    state: s.state,
    pausedUntilMs: toUint64(s.pausedUntilMs),
  };
}

export function schedulerFromProto(s: SchedulerInfo__Output): SchedulerView {
  if (s.state !== 'running' && s.state !== 'paused' && s.state !== 'removed')
    throw new RangeError(`unknown scheduler state ${JSON.stringify(s.state)}`);
  return {
    name: s.name,
    description: s.description,
    state: s.state,
    pausedUntilMs: uint64ToNumber(s.pausedUntilMs, 'paused until'),
  };
}

export function explanationToProto(e: RegionExplanation): Omit<ExplainRegionResponse, 'header'> {
  const r = e.running;
  return {
    region: regionInfoToProto(e.region),
    executing: e.executing,
    running: r
      ? {
          id: toUint64(r.id),
          desc: r.desc,
          kind: r.kind,
          priority: r.priority,
          status: r.status,
          steps: r.steps,
          currentStep: r.currentStep,
          ageMs: toUint64(r.ageMs),
        }
      : null,
    patrolledAgoMs: toInt64(e.patrolledAgoMs ?? -1),
    verdicts: e.verdicts.map((v) => ({ ...v })),
  };
}

const OUTCOMES = new Set(['nothing-to-do', 'act', 'held-back', 'not-eligible', 'off']);

export function explanationFromProto(res: ExplainRegionResponse__Output): RegionExplanation {
  if (!res.region) throw new RangeError('ExplainRegion answered without the region');
  const r = res.running;
  const ago = int64ToNumber(res.patrolledAgoMs, 'patrolled ago');
  return {
    region: regionInfoFromProto(res.region),
    executing: res.executing,
    running: r
      ? {
          id: uint64ToNumber(r.id, 'operator id'),
          desc: r.desc,
          kind: r.kind,
          priority: r.priority,
          status: r.status,
          steps: r.steps,
          currentStep: r.currentStep,
          ageMs: uint64ToNumber(r.ageMs, 'operator age'),
        }
      : undefined,
    patrolledAgoMs: ago < 0 ? undefined : ago,
    verdicts: res.verdicts.map((v): VerdictView => {
      if (!OUTCOMES.has(v.outcome)) throw new RangeError(`unknown outcome ${v.outcome}`);
      return {
        source: v.source,
        outcome: v.outcome as VerdictView['outcome'],
        summary: v.summary,
        details: v.details,
        steps: v.steps,
      };
    }),
  };
}

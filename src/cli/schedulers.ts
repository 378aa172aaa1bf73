// How schedulers print: a table for people, plain objects for --json.
import type { SchedulerView } from '../pd/schedule/scheduler_registry.js';
import { formatDuration } from '../pd/config/duration.js';
import { renderTable } from './output.js';

export function schedulerJson(s: SchedulerView): object {
  return {
    name: s.name,
    state: s.state,
    pausedUntil: s.pausedUntilMs > 0 ? new Date(s.pausedUntilMs).toISOString() : null,
    description: s.description,
  };
}

/** "paused for 4m59s more (until 2026-…)", "running", "removed". */
export function schedulerState(s: SchedulerView, nowMs = Date.now()): string {
  if (s.state !== 'paused') return s.state;
  const left = Math.max(0, Math.round((s.pausedUntilMs - nowMs) / 1000) * 1000);
  return `paused for ${formatDuration(left)} more (until ${new Date(s.pausedUntilMs).toISOString()})`;
}

export function renderSchedulers(list: SchedulerView[]): string {
  return renderTable(
    ['name', 'state', 'what it does'],
    list.map((s) => [s.name, schedulerState(s), s.description]),
  );
}

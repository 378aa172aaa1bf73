// The arithmetic of `nyx bench split` (issue 9, §7): one measured window of writes, and
// the medians over --runs of the two kinds of window, with the ratio the issue holds the
// split path to — p99 of writes to other Regions while Regions split, over p99 without,
// at most 2. Pure, so the rule is unit-tested apart from the cluster.
import type { LatencySummary } from './latency.js';
import { median } from './summary.js';

/** The target: p99 while splitting at most this many times the p99 without. */
export const SPLIT_P99_TARGET_RATIO = 2;

/** The writes one window measured. */
export interface WriteWindow {
  /** Seconds the window lasted (as timed). */
  seconds: number;
  ops: number;
  opsPerSec: number;
  latencyMs: LatencySummary;
  errors: number;
  errorKinds: Record<string, number>;
}

/** A window during which full Regions split one after another. */
export interface SplitWindow extends WriteWindow {
  /** Splits PD reported done inside the window. */
  splits: number;
  /** Splits that failed (timed out, refused); counted, never fatal. */
  failedSplits: number;
  /** Seconds each completed split took, from the request until PD's map showed it. */
  splitSec: number[];
}

export interface SplitRun {
  baseline: WriteWindow;
  splitting: SplitWindow;
  /** Which window of the run came first (runs alternate, so drift does not favour one). */
  order: 'baseline-first' | 'splitting-first';
}

export interface WindowMedians {
  p50: number;
  p99: number;
  max: number;
  opsPerSec: number;
}

export interface SplitSummary {
  runs: number;
  baseline: WindowMedians;
  splitting: WindowMedians & { splits: number };
  /** Median p99 while splitting over median p99 without. */
  p99Ratio: number;
  /** Each run's own ratio, in run order. */
  p99RatioByRun: number[];
  target: number;
  meetsTarget: boolean;
}

function medians(ws: WriteWindow[]): WindowMedians {
  return {
    p50: median(ws.map((w) => w.latencyMs.p50)),
    p99: median(ws.map((w) => w.latencyMs.p99)),
    max: median(ws.map((w) => w.latencyMs.max)),
    opsPerSec: median(ws.map((w) => w.opsPerSec)),
  };
}

/** a / b, NaN unless both are real and b is positive (no "Infinity ×" in a report). */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

export function summarizeSplitRuns(runs: SplitRun[]): SplitSummary {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const baseline = medians(runs.map((r) => r.baseline));
  const splitting = {
    ...medians(runs.map((r) => r.splitting)),
    splits: median(runs.map((r) => r.splitting.splits)),
  };
  const p99Ratio = ratio(splitting.p99, baseline.p99);
  return {
    runs: runs.length,
    baseline,
    splitting,
    p99Ratio,
    p99RatioByRun: runs.map((r) => ratio(r.splitting.latencyMs.p99, r.baseline.latencyMs.p99)),
    target: SPLIT_P99_TARGET_RATIO,
    meetsTarget: p99Ratio <= SPLIT_P99_TARGET_RATIO,
  };
}

/** Run i's window order: even runs measure the baseline first, odd ones the splits. */
export function windowOrder(run: number): SplitRun['order'] {
  return run % 2 === 0 ? 'baseline-first' : 'splitting-first';
}

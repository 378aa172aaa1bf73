// Issue #8's targets for the transactional fast paths, measured against RawKV puts in the
// same command (same machine, same minute): latency ratios at low concurrency, and
// cross-Region transfer throughput at high concurrency. Medians over runs, and the ratio
// of medians, so one noisy run on a shared machine moves the verdict little.
import { median } from './summary.js';
import { warmupShares } from './warmup.js';
import type { OpRunResult } from './op_runner.js';
import type { TxnWorkloadName } from './txn_workloads.js';

export interface CaseKey {
  workload: TxnWorkloadName;
  concurrency: number;
}

export interface CaseRun extends CaseKey {
  run: number;
  result: OpRunResult;
}

export interface CaseMedian extends CaseKey {
  runs: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface TargetCheck {
  target: string;
  /** workload value / raw put value (median of each). */
  ratio: number;
  /** The bound: a maximum for latency, a minimum for throughput. */
  bound: number;
  met: boolean;
}

/** The cases a comparison runs, in order, each run. */
export function comparisonCases(latencyC: number, throughputC: number): CaseKey[] {
  return [
    { workload: 'raw-put', concurrency: latencyC },
    { workload: '1pc', concurrency: latencyC },
    { workload: 'transfer-async', concurrency: latencyC },
    { workload: 'transfer-2pc', concurrency: latencyC },
    { workload: 'raw-put', concurrency: throughputC },
    { workload: 'transfer-async', concurrency: throughputC },
    { workload: 'transfer-2pc', concurrency: throughputC },
  ];
}

/**
 * The unmeasured warm-up before a comparison's first run: each workload of the cases,
 * sharing `sec` seconds (warmup.ts). Without it the first run's first case, the raw put
 * every ratio divides by, ran on cold code (a cold run measured 1PC at 1.26x raw put
 * where warm runs of the same command measured 1.97x).
 */
export function txnWarmupCases(
  cases: CaseKey[],
  sec: number,
): (CaseKey & { durationSec: number })[] {
  return warmupShares(
    cases.map((c) => c.workload),
    sec,
  ).map(({ kind, ...w }) => ({ workload: kind, ...w }));
}

export function caseMedians(runs: CaseRun[]): CaseMedian[] {
  const groups = new Map<string, CaseRun[]>();
  for (const r of runs) {
    const k = `${r.workload}@${r.concurrency}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    workload: g[0]!.workload,
    concurrency: g[0]!.concurrency,
    runs: g.length,
    opsPerSec: median(g.map((r) => r.result.opsPerSec)),
    p50: median(g.map((r) => r.result.latencyMs.p50)),
    p99: median(g.map((r) => r.result.latencyMs.p99)),
    errors: g.reduce((n, r) => n + r.result.errors, 0),
  }));
}

export function checkTargets(
  medians: CaseMedian[],
  latencyC: number,
  throughputC: number,
): TargetCheck[] {
  const at = (w: TxnWorkloadName, c: number) =>
    medians.find((m) => m.workload === w && m.concurrency === c);
  const out: TargetCheck[] = [];
  const latency = (w: TxnWorkloadName, label: string, bound: number) => {
    const base = at('raw-put', latencyC);
    const m = at(w, latencyC);
    if (!base || !m) return;
    const ratio = m.p50 / base.p50;
    out.push({
      target: `${label} p50 <= ${bound}x raw put p50 (c=${latencyC})`,
      ratio,
      bound,
      met: ratio <= bound,
    });
  };
  const throughput = (w: TxnWorkloadName, label: string, bound: number) => {
    const base = at('raw-put', throughputC);
    const m = at(w, throughputC);
    if (!base || !m) return;
    const ratio = m.opsPerSec / base.opsPerSec;
    out.push({
      target: `${label} ops/s >= ${bound * 100}% of raw put ops/s (c=${throughputC})`,
      ratio,
      bound,
      met: ratio >= bound,
    });
  };
  latency('1pc', '1PC (single Region)', 1.3);
  latency('transfer-async', 'cross-Region async commit', 2);
  latency('transfer-2pc', 'cross-Region 2PC', 2.5);
  throughput('transfer-async', 'cross-Region async-commit transfers', 0.35);
  throughput('transfer-2pc', 'cross-Region 2PC transfers', 0.35);
  return out;
}

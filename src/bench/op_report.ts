// How `nyx bench txn` and `nyx bench ycsb` results print: settings, a table of
// throughput and percentiles per operation kind, the latency histogram, the errors.
import { renderFields, renderTable, type Cell } from '../cli/output.js';
import { renderHistogram } from './histogram.js';
import type { KindStats, OpRunResult } from './op_runner.js';
import { LATENCY_HEADER } from './report.js';
import type { CaseMedian, TargetCheck } from './txn_targets.js';

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '-');

function row(name: string, s: KindStats): Cell[] {
  const l = s.latencyMs;
  return [
    name,
    s.ops,
    Math.round(s.opsPerSec),
    ms(l.p50),
    ms(l.p90),
    ms(l.p99),
    ms(l.p999),
    ms(l.max),
  ];
}

export function renderOpResult(
  title: string,
  settings: [string, Cell][],
  r: OpRunResult,
  extra: [string, Cell][] = [],
): string {
  const fields = renderFields([
    ...settings,
    ['concurrency', r.concurrency],
    ['warmup (s)', r.warmupSec],
    ['measured (s)', r.durationSec.toFixed(2)],
    [
      'client CPU',
      `${r.clientCpuSec.toFixed(2)} s (${Number.isFinite(r.clientCpuUsPerOp) ? r.clientCpuUsPerOp.toFixed(1) : '-'} µs/op)`,
    ],
    ...extra,
  ]);
  const kinds = Object.entries(r.byKind);
  const rows = kinds.map(([k, s]) => row(k, s));
  if (kinds.length !== 1) rows.push(row('all', r));
  const errs =
    r.errors === 0
      ? 'errors: 0'
      : renderTable(
          ['errors', 'count'],
          Object.entries(r.errorKinds).map(([k, n]) => [k, n]),
        );
  return [
    title,
    fields,
    renderTable(LATENCY_HEADER, rows),
    'latency histogram (all operations)',
    renderHistogram(r.histogram),
    errs,
  ].join('\n');
}

export function renderComparison(medians: CaseMedian[], targets: TargetCheck[]): string {
  const table = renderTable(
    ['workload', 'c', 'runs', 'ops/s', 'p50 ms', 'p99 ms', 'errors'],
    medians.map((m) => [
      m.workload,
      m.concurrency,
      m.runs,
      Math.round(m.opsPerSec),
      ms(m.p50),
      ms(m.p99),
      m.errors,
    ]),
  );
  const checks = renderTable(
    ['target', 'measured', 'met'],
    targets.map((t) => [
      t.target,
      t.target.includes('ops/s') ? `${(t.ratio * 100).toFixed(0)}%` : `${t.ratio.toFixed(2)}x`,
      t.met ? 'yes' : 'NO',
    ]),
  );
  return `medians over runs\n${table}\ntargets (ratios of medians, measured in this command)\n${checks}`;
}

/** Plain JSON data: NaN (an empty set) becomes null. */
export function plainJson(v: unknown): object {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint'
        ? x.toString()
        : typeof x === 'number' && !Number.isFinite(x)
          ? null
          : x,
    ),
  ) as object;
}

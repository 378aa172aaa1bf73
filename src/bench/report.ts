// How a benchmark result prints (progress while it runs is progress_display.ts): a table
// of throughput and latency percentiles plus the errors by kind. --json prints the
// BenchResult itself (numbers unrounded; NaN for an empty set becomes null).
import { renderFields, renderTable, type Cell } from '../cli/output.js';
import { renderHistogram } from './histogram.js';
import type { LatencySummary } from './latency.js';
import type { BenchResult, OpStats } from './runner.js';

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '-');

export const LATENCY_HEADER = [
  'op',
  'ops',
  'ops/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'p999 ms',
  'max ms',
];

function latencyCells(l: LatencySummary): Cell[] {
  return [ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)];
}

function row(name: string, s: OpStats): Cell[] {
  return [name, s.ops, Math.round(s.opsPerSec), ...latencyCells(s.latencyMs)];
}

/** The human report: run settings, the latency table, then the errors (if any). */
export function renderResult(r: BenchResult, title = 'bench'): string {
  const settings = renderFields([
    ['workload', r.op === 'mixed' ? `mixed (${Math.round(r.readRatio * 100)}% gets)` : r.op],
    ['concurrency', r.concurrency],
    ['keys', r.keys],
    ['value size (bytes)', r.valueSize],
    ['warmup (s)', r.warmupSec],
    ['measured (s)', r.durationSec.toFixed(2)],
    [
      'client CPU',
      `${r.clientCpuSec.toFixed(2)} s (${Number.isFinite(r.clientCpuUsPerOp) ? r.clientCpuUsPerOp.toFixed(1) : '-'} µs/op)`,
    ],
    ...(r.serverCpuSec !== undefined
      ? ([
          [
            'server CPU',
            `${r.serverCpuSec.toFixed(2)} s (${Number.isFinite(r.serverCpuUsPerOp) ? r.serverCpuUsPerOp!.toFixed(1) : '-'} µs/op)`,
          ],
        ] as [string, string][])
      : []),
  ]);
  const rows: Cell[][] = [];
  if (r.byOp) {
    rows.push(row('get', r.byOp.get), row('put', r.byOp.put));
    rows.push(row('all', r));
  } else rows.push(row(r.op, r));
  const table = renderTable(LATENCY_HEADER, rows);
  const errs =
    r.errors === 0
      ? 'errors: 0'
      : renderTable(
          ['errors', 'count'],
          Object.entries(r.errorKinds).map(([k, n]) => [k, n]),
        );
  return `${title}\n${settings}\n${table}\nlatency histogram (all operations)\n${renderHistogram(r.histogram)}\n${errs}`;
}

/** The result as plain JSON data (NaN latencies of an empty run become null). */
export function resultJson(r: BenchResult): object {
  return JSON.parse(
    JSON.stringify(r, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? null : v,
    ),
  ) as object;
}

// The comparison's result as rows: for each (op, concurrency) and each NyxDB layout, the
// medians of both systems and NyxDB/etcd ratios. Ratios read the same way everywhere:
// ops/s above 1 favours NyxDB; latency and server CPU per op below 1 favour NyxDB. The
// scaling column compares a layout with NyxDB's own 1-Region layout at the same case,
// because more Regions must not make the same workload slower.
import { renderTable, type Cell } from '../cli/output.js';
import type { CaseSummary } from './summary.js';

export interface CompareRow {
  op: string;
  concurrency: number;
  /** NyxDB's initial Region count for this row. */
  regions: number;
  nyx: CaseSummary;
  etcd: CaseSummary | undefined;
  /** NyxDB / etcd; NaN without an etcd result. */
  ratio: { opsPerSec: number; p50: number; p99: number; serverCpuUsPerOp: number };
  /** NyxDB ops/s with this layout / with 1 Region; NaN without a 1-Region result. */
  vsOneRegion: number;
}

const key = (s: { op: string; concurrency: number }) => `${s.op}@${s.concurrency}`;

export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return NaN;
  return a / b;
}

/**
 * One row per NyxDB (layout, case), in the order of `nyxByRegions` (layouts) and of its
 * cases; etcd's summary of the same case is matched by op and concurrency.
 */
export function compareRows(
  nyxByRegions: Map<number, CaseSummary[]>,
  etcd: CaseSummary[],
): CompareRow[] {
  const etcdByCase = new Map(etcd.map((s) => [key(s), s]));
  const oneRegion = new Map((nyxByRegions.get(1) ?? []).map((s) => [key(s), s]));
  const rows: CompareRow[] = [];
  for (const [regions, cases] of nyxByRegions) {
    for (const n of cases) {
      const e = etcdByCase.get(key(n));
      rows.push({
        op: n.op,
        concurrency: n.concurrency,
        regions,
        nyx: n,
        etcd: e,
        ratio: {
          opsPerSec: ratio(n.opsPerSec, e?.opsPerSec),
          p50: ratio(n.p50, e?.p50),
          p99: ratio(n.p99, e?.p99),
          serverCpuUsPerOp: ratio(n.serverCpuUsPerOp, e?.serverCpuUsPerOp),
        },
        vsOneRegion: ratio(n.opsPerSec, oneRegion.get(key(n))?.opsPerSec),
      });
    }
  }
  return rows;
}

const num = (v: number | undefined, digits: number): string =>
  v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
const times = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '-');

export const COMPARE_HEADER = [
  'case',
  'regions',
  'nyx ops/s',
  'etcd ops/s',
  'ops/s ×',
  'nyx p50',
  'etcd p50',
  'p50 ×',
  'nyx p99',
  'etcd p99',
  'p99 ×',
  'nyx srv µs/op',
  'etcd srv µs/op',
  'srv CPU ×',
  'vs 1 Region',
  'client µs/op nyx/etcd',
];

export function compareCells(r: CompareRow): Cell[] {
  return [
    `${r.op} c=${r.concurrency}`,
    r.regions,
    num(r.nyx.opsPerSec, 0),
    num(r.etcd?.opsPerSec, 0),
    times(r.ratio.opsPerSec),
    num(r.nyx.p50, 3),
    num(r.etcd?.p50, 3),
    times(r.ratio.p50),
    num(r.nyx.p99, 3),
    num(r.etcd?.p99, 3),
    times(r.ratio.p99),
    num(r.nyx.serverCpuUsPerOp, 0),
    num(r.etcd?.serverCpuUsPerOp, 0),
    times(r.ratio.serverCpuUsPerOp),
    r.regions === 1 ? '' : times(r.vsOneRegion),
    `${num(r.nyx.clientCpuUsPerOp, 0)}/${num(r.etcd?.clientCpuUsPerOp, 0)}`,
  ];
}

/** The table people read: latencies in ms, server CPU per op in µs, ratios as N×. */
export function renderCompareTable(rows: CompareRow[]): string {
  return renderTable(COMPARE_HEADER, rows.map(compareCells));
}

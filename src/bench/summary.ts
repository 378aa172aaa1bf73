// Several runs of the same case summed up as medians (of throughput and of each
// percentile, run by run): one noisy run on a shared machine moves a median little.
import type { BenchResult } from './runner.js';

export interface CaseSummary {
  op: string;
  concurrency: number;
  runs: number;
  opsPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** CPU of the load generator per operation, in µs. */
  clientCpuUsPerOp: number;
  /** CPU of all server processes per operation, in µs (NaN when not measured). */
  serverCpuUsPerOp: number;
  errors: number;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Groups results by (op, concurrency), in first-seen order, and takes medians. */
export function summarize(results: BenchResult[]): CaseSummary[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const k = `${r.op}@${r.concurrency}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => ({
    op: g[0]!.op,
    concurrency: g[0]!.concurrency,
    runs: g.length,
    opsPerSec: median(g.map((r) => r.opsPerSec)),
    p50: median(g.map((r) => r.latencyMs.p50)),
    p90: median(g.map((r) => r.latencyMs.p90)),
    p99: median(g.map((r) => r.latencyMs.p99)),
    p999: median(g.map((r) => r.latencyMs.p999)),
    max: median(g.map((r) => r.latencyMs.max)),
    clientCpuUsPerOp: median(g.map((r) => r.clientCpuUsPerOp)),
    serverCpuUsPerOp: median(g.map((r) => r.serverCpuUsPerOp ?? NaN)),
    errors: g.reduce((n, r) => n + r.errors, 0),
  }));
}

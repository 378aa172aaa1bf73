// The latency histogram printed at the end of a benchmark: power-of-two millisecond
// buckets (0.125 ms .. 8 s), trimmed to the ones that hold samples, with a bar each.
import type { LatencyRecorder } from './latency.js';

export interface HistogramBucket {
  /** Upper bound in ms (inclusive); null for "above the last bound". */
  leMs: number | null;
  count: number;
}

const BOUNDS: readonly number[] = Array.from({ length: 17 }, (_, i) => 0.125 * 2 ** i);

export function latencyHistogram(rec: LatencyRecorder): HistogramBucket[] {
  const counts = rec.bucketCounts(BOUNDS);
  const buckets = counts.map((count, i) => ({ leMs: BOUNDS[i] ?? null, count }));
  const first = buckets.findIndex((b) => b.count > 0);
  if (first < 0) return [];
  let last = buckets.length - 1;
  while (buckets[last]!.count === 0) last--;
  return buckets.slice(first, last + 1);
}

const fmtBound = (ms: number): string => (ms < 1 ? `${ms * 1000} µs` : `${ms} ms`);

/** One line per bucket: "≤ 2 ms   1234  12.3%  ██████". */
export function renderHistogram(buckets: HistogramBucket[], width = 40): string {
  const total = buckets.reduce((a, b) => a + b.count, 0);
  if (total === 0) return '(no samples)';
  const max = Math.max(...buckets.map((b) => b.count));
  const labels = buckets.map((b, i) =>
    b.leMs === null ? `> ${fmtBound(buckets[i - 1]?.leMs ?? 0)}` : `≤ ${fmtBound(b.leMs)}`,
  );
  const lw = Math.max(...labels.map((l) => l.length));
  const cw = String(max).length;
  return buckets
    .map((b, i) => {
      const pct = ((100 * b.count) / total).toFixed(1).padStart(5);
      const bar = '█'.repeat(Math.round((width * b.count) / max));
      return `${labels[i]!.padStart(lw)}  ${String(b.count).padStart(cw)}  ${pct}%  ${bar}`;
    })
    .join('\n');
}

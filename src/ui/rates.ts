// Rates and latency quantiles from two successive scrapes of the same counters and
// histograms, the way Prometheus' rate() and histogram_quantile() compute them: a counter
// that went down was reset (the process restarted), so its new value is all increase; a
// quantile is found in the cumulative bucket counts of the interval and interpolated
// linearly inside its bucket.
import type { Sample } from './prometheus.js';

/** Per-second increase of a counter over dtSec; null without two scrapes. */
export function counterRate(
  prev: number | undefined,
  cur: number | undefined,
  dtSec: number,
): number | null {
  if (prev === undefined || cur === undefined || !(dtSec > 0)) return null;
  const increase = cur >= prev ? cur - prev : cur;
  return increase / dtSec;
}

/** Cumulative histogram buckets: `le` upper bound (seconds, +Inf last) -> count. */
export type Buckets = Map<number, number>;

/** Sum of the samples named `name` whose labels pass `keep`. */
export function sumSamples(
  samples: Sample[],
  name: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && keep(s.labels)) sum += s.value;
  return sum;
}

/** The buckets of histogram `name` (summed over the label sets `keep` passes). */
export function histogramBuckets(
  samples: Sample[],
  name: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): Buckets {
  const b: Buckets = new Map();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !keep(s.labels)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    b.set(le, (b.get(le) ?? 0) + s.value);
  }
  return b;
}

/** What was observed between two scrapes; a reset (any count went down) counts as all new. */
export function bucketsDelta(prev: Buckets | undefined, cur: Buckets): Buckets {
  if (!prev) return new Map(cur);
  const reset = [...cur].some(([le, n]) => n < (prev.get(le) ?? 0));
  const d: Buckets = new Map();
  for (const [le, n] of cur) d.set(le, reset ? n : n - (prev.get(le) ?? 0));
  return d;
}

/**
 * The q-quantile (0..1) of the observations in cumulative buckets, in the buckets' unit;
 * null when nothing was observed. Like histogram_quantile: linear inside the bucket; in the
 * +Inf bucket the answer is the highest finite bound (nothing better is known).
 */
export function quantile(q: number, buckets: Buckets): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      if (inBucket <= 0) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

// Latency recording for the benchmarks. No well-kept histogram library is a dependency
// (tdigest arrives only through prom-client and is approximate), so every sample is kept
// in a growable Float64Array and sorted once at the end: exact percentiles, 8 bytes per
// sample (a million samples is 8 MB and sorts in well under a second), and no work on
// the hot path beyond one store.

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatencyRecorder {
  private samples: Float64Array;
  private n = 0;
  private sorted = true;

  constructor(initialCapacity = 1 << 16) {
    this.samples = new Float64Array(Math.max(16, initialCapacity));
  }

  get count(): number {
    return this.n;
  }

  /** One latency in milliseconds. */
  record(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
    this.sorted = false;
  }

  /** Adds every sample of another recorder (e.g. per-op recorders into a total). */
  merge(other: LatencyRecorder): void {
    for (let i = 0; i < other.n; i++) this.record(other.samples[i]!);
  }

  private view(): Float64Array {
    const v = this.samples.subarray(0, this.n);
    if (!this.sorted) {
      v.sort(); // typed-array sort is numeric
      this.sorted = true;
    }
    return v;
  }

  /**
   * The q-quantile (q in [0, 1]) by the nearest-rank method: the smallest sample with at
   * least q of all samples at or below it. NaN when there are no samples.
   */
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const v = this.view();
    const rank = Math.ceil(q * this.n);
    return v[Math.min(this.n - 1, Math.max(0, rank - 1))]!;
  }

  /**
   * Samples counted into buckets: bucket i holds samples in (bounds[i-1], bounds[i]]; a
   * last bucket holds those above the last bound.
   */
  bucketCounts(bounds: readonly number[]): number[] {
    const counts = new Array<number>(bounds.length + 1).fill(0);
    const v = this.view();
    let b = 0;
    for (let i = 0; i < v.length; i++) {
      while (b < bounds.length && v[i]! > bounds[b]!) b++;
      counts[b]!++;
    }
    return counts;
  }

  summary(): LatencySummary {
    if (this.n === 0) {
      return { count: 0, mean: NaN, min: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
    }
    const v = this.view();
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i]!;
    return {
      count: this.n,
      mean: sum / this.n,
      min: v[0]!,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: v[this.n - 1]!,
    };
  }
}

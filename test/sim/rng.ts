// The simulation's single source of randomness. Every decision of a run (topology,
// faults, latencies, workload, election jitter) is drawn from one SimRng built from the
// run's seed, in the order the single-threaded event loop asks for it, so a seed
// replays the same run exactly. Nothing here may consult Math.random or a clock.
import { SeededRand } from '../../src/raft/index.js';

export class SimRng {
  private readonly r: SeededRand;

  constructor(seed: number) {
    this.r = new SeededRand(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.r.next();
  }

  /** An integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + this.r.intn(hi - lo + 1);
  }

  /** True with probability p. Draws nothing when p <= 0 (keeps quiet phases cheap). */
  chance(p: number): boolean {
    return p > 0 && this.r.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[this.r.intn(xs.length)]!;
  }

  /** A key of `weights`, chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let x = this.r.next() * total;
    for (const k of keys) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1]!;
  }

  /** A seed for a derived generator (e.g. one node incarnation's election jitter). */
  derive(): number {
    return this.r.intn(0x7fffffff);
  }
}

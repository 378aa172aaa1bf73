// The balance rule both balancers share, in the spirit of PD's shouldBalance (tikv/pd
// server/schedulers/utils.go): move one unit (a leader, a replica) from source to target
// only if
//   - the imbalance is real: the source is above the mean by more than the tolerance, or
//     the target below it by more — small differences are left alone (no churn); and
//   - the move makes things strictly better: the source keeps at least as many as the
//     target will have (source - target >= 2). Every move then lowers the sum of squared
//     scores by at least 2, so a sequence of moves must end: balancing converges and
//     cannot flap back and forth.
// Scores count operators in flight (snapshot.ts), so concurrent moves do not overshoot.

/** The tolerance around the mean: 5 % of it, at least one unit (PD's tolerant-size-ratio spirit). */
export const TOLERANT_RATIO = 0.05;

export function tolerance(mean: number): number {
  return Math.max(1, Math.round(mean * TOLERANT_RATIO));
}

export interface BalanceJudgement {
  move: boolean;
  /** Why (not), in words: "store 1 has 6 leaders, mean 4.0, tolerance 1". */
  reason: string;
}

export function judgeMove(
  unit: string,
  source: { id: number; score: number },
  target: { id: number; score: number },
  mean: number,
  tol: number,
): BalanceJudgement {
  const m = mean.toFixed(1);
  const facts = `store ${source.id} has ${plural(source.score, unit)}, store ${target.id} has ${target.score}, mean ${m}, tolerance ${tol}`;
  if (source.score - target.score < 2)
    return { move: false, reason: `${facts}: moving one would not make them more even` };
  if (source.score - mean <= tol && mean - target.score <= tol)
    return { move: false, reason: `${facts}: both within the tolerance of the mean` };
  return { move: true, reason: facts };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** "1 leader", "6 leaders". */
export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

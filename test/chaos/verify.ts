// The checks every chaos run ends with, on the recorded history alone (so a kept
// history.json can be checked again offline): well-formed, linearizable per key, and no
// acknowledged write lost.
import type { KvOperation, Value } from '../check/history.js';
import { validateKvHistory } from '../check/history.js';
import { checkKvHistory, formatKvResult } from '../check/linearizability.js';
import { findLostWrites, formatLostWrite } from '../check/lost_writes.js';

/**
 * A chaos history is big; the search gets this long before it says "undecided": two
 * minutes, plus a millisecond per operation, because a 30-minute run records a few
 * hundred thousand operations and its search, on a machine still busy with other work,
 * needs minutes (a 375,000-operation history took 50 s on a quiet machine).
 */
export function checkBudgetMs(operationCount: number): number {
  return 120_000 + operationCount;
}

/** Which of a run's promises a failure breaks. */
export type Check =
  | 'linearizable'
  /** Transactions: the bank's invariant (every snapshot's total, balances = records). */
  | 'bank'
  /** Transactions: no G0, G1a, G1b, G1c or G-single in a list-append history. */
  | 'snapshot-isolation'
  | 'no-lost-write'
  | 'availability'
  | 'no-crash'
  | 'run';

export interface Failure {
  check: Check;
  text: string;
}

export interface HistoryVerdict {
  failures: Failure[];
  /** One line: what was checked, how long it took. */
  summary: string;
}

export function verifyHistory(
  ops: readonly KvOperation[],
  finalReads: ReadonlyMap<string, Value>,
): HistoryVerdict {
  const failures: Failure[] = [];
  try {
    validateKvHistory(ops);
  } catch (e) {
    const text = `malformed history: ${(e as Error).message}`;
    return { failures: [{ check: 'run', text }], summary: 'not checked' };
  }
  const lin = checkKvHistory(ops, { timeoutMs: checkBudgetMs(ops.length) });
  if (lin.verdict !== 'ok') failures.push({ check: 'linearizable', text: formatKvResult(lin) });
  const lost = findLostWrites(ops, finalReads);
  if (lost.length > 0) {
    failures.push({
      check: 'no-lost-write',
      text:
        `acknowledged writes lost on ${lost.length} keys:\n` + lost.map(formatLostWrite).join('\n'),
    });
  }
  const indeterminate = ops.filter((o) => o.output === undefined).length;
  return {
    failures,
    summary:
      `${ops.length} operations (${indeterminate} indeterminate) on ${lin.parts} keys: ` +
      `${lin.verdict === 'ok' ? 'linearizable' : lin.verdict === 'illegal' ? 'NOT linearizable' : 'undecided'}` +
      ` (checked in ${lin.elapsedMs} ms), ${lost.length === 0 ? 'no acknowledged write lost' : `${lost.length} keys lost acknowledged writes`}`,
  };
}

// "No acknowledged commit lost" for a list-append history: once every fault has healed,
// a final read of each key must contain every value a committed (ok) transaction
// appended to it. Elle's inference alone does not say so: a value no read ever saw is
// simply unordered.
import type { Txn } from './history.js';

export interface LostAppend {
  txn: number;
  key: string;
  value: number;
}

export function findLostAppends(
  history: readonly Txn[],
  finalReads: ReadonlyMap<string, readonly number[]>,
): LostAppend[] {
  const lost: LostAppend[] = [];
  const finalSets = new Map([...finalReads].map(([k, v]) => [k, new Set(v)]));
  for (const t of history) {
    if (t.status !== 'ok') continue;
    for (const op of t.ops) {
      if (op.f !== 'append') continue;
      const seen = finalSets.get(op.key);
      if (seen === undefined) throw new Error(`no final read of key ${op.key}`);
      if (!seen.has(op.value)) lost.push({ txn: t.id, key: op.key, value: op.value });
    }
  }
  return lost;
}

// The unmeasured warm-up a benchmark runs on a cluster before its first measured case
// (`nyx bench compare`, `nyx bench txn --compare`): NyxDB's processes and the load
// generator are JIT-compiled, and a first case on cold code measures the compiler more
// than the store.

/** Every warm-up runs at this concurrency: enough to exercise the batched paths. */
export const WARMUP_CONCURRENCY = 16;

/**
 * Each distinct kind once, in first-seen order, sharing `sec` seconds (at least one
 * each); none for 0.
 */
export function warmupShares<K>(
  kinds: readonly K[],
  sec: number,
): { kind: K; concurrency: number; durationSec: number }[] {
  if (sec <= 0) return [];
  const distinct = [...new Set(kinds)];
  const each = Math.max(1, Math.round(sec / distinct.length));
  return distinct.map((kind) => ({ kind, concurrency: WARMUP_CONCURRENCY, durationSec: each }));
}

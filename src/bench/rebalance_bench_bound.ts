// When `nyx bench rebalance` calls a cluster balanced (issue 9, §7: "Regions within ±10 %
// of the mean"): every store's count within ±10 % of the mean of all stores' counts, and
// at least ±1. Counts are whole numbers, so a bound under one unit could only be met by a
// perfect split: 8 Regions × 3 replicas on 4 stores is a mean of 6, and 10 % of it (0.6)
// would allow 6 and nothing else, while PD's balancers (schedule/balance.ts) by design
// leave a store one unit off the mean alone. With the floor of 1 the bound is ±10 % from
// a mean of 10 up (e.g. 64 Regions: 192 replicas, mean 48, 44..52 pass).
// Pure, so the rule is unit-tested apart from the cluster.

export const REBALANCE_RATIO = 0.1;

export interface BalanceCheck {
  mean: number;
  /** The allowed distance from the mean: max(ratio × mean, 1). */
  bound: number;
  within: boolean;
  /** The stores outside the bound, by id. */
  outside: number[];
}

/** counts: store id → count; stores with none must be listed with 0. */
export function checkBalance(
  counts: ReadonlyMap<number, number>,
  ratio = REBALANCE_RATIO,
): BalanceCheck {
  if (counts.size === 0) throw new Error('no stores to balance');
  if (!(ratio >= 0)) throw new Error('the ratio must be non-negative');
  const values = [...counts.values()];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const bound = Math.max(ratio * mean, 1);
  const outside = [...counts]
    .filter(([, n]) => Math.abs(n - mean) > bound + 1e-9)
    .map(([id]) => id)
    .sort((a, b) => a - b);
  return { mean, bound, within: outside.length === 0, outside };
}

/**
 * Voters and leaders per store, from PD's Region map, every store listed (0 if none). Only
 * voters count: a learner still catching up (its snapshot in flight) holds no share yet,
 * so a store is credited with a Region once its replica is promoted.
 */
export function countByStore(
  storeIds: readonly number[],
  regions: readonly { voterStores: readonly number[]; leaderStore?: number }[],
): { peers: Map<number, number>; leaders: Map<number, number> } {
  const peers = new Map(storeIds.map((id) => [id, 0]));
  const leaders = new Map(storeIds.map((id) => [id, 0]));
  for (const r of regions) {
    for (const s of r.voterStores) if (peers.has(s)) peers.set(s, peers.get(s)! + 1);
    if (r.leaderStore !== undefined && leaders.has(r.leaderStore))
      leaders.set(r.leaderStore, leaders.get(r.leaderStore)! + 1);
  }
  return { peers, leaders };
}

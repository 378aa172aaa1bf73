// Where PD put the Regions' leaders, as a benchmark reports it beside its numbers. With
// several Regions on one machine the layout alone can double or halve write throughput
// (a store that leads some Regions and follows others writes its log for three
// independent sources; docs/performance.md, "Why 8 Regions are slower"), so a result
// without it cannot be read.
import type { RegionInfo } from '../pd/cluster.js';
import { countByStore } from './rebalance_bench_bound.js';

export interface LeaderLayout {
  /** Leaders per store id. */
  byStore: Record<string, number>;
  /** Regions PD knows no leader of. */
  none: number;
}

export function leaderLayout(
  regions: readonly RegionInfo[],
  storeIds: readonly number[],
): LeaderLayout {
  const leaderStores = regions.flatMap((r) => (r.leader ? [r.leader.storeId] : []));
  // Every store listed, those without leaders as 0, and any leader's store even if the
  // caller did not know it.
  const { leaders } = countByStore(
    [...new Set([...storeIds, ...leaderStores])],
    leaderStores.map((leaderStore) => ({ voterStores: [], leaderStore })),
  );
  return {
    byStore: Object.fromEntries([...leaders].map(([id, n]) => [String(id), n])),
    none: regions.length - leaderStores.length,
  };
}

/** "3/3/2" in store id order, with " (1 without)" when some Region has no leader. */
export function formatLeaderLayout(l: LeaderLayout): string {
  const counts = Object.entries(l.byStore)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, n]) => String(n))
    .join('/');
  return l.none > 0 ? `${counts} (${l.none} without)` : counts;
}

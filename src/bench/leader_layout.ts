// Where PD put the Regions' leaders, as a benchmark reports it beside its numbers. With
// several Regions on one machine the layout alone can double or halve write throughput
// (a store that leads some Regions and follows others writes its log for three
// independent sources; docs/performance.md, "Why 8 Regions are slower"), so a result
// without it cannot be read.
import type { RegionInfo } from '../pd/cluster.js';

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
  const byStore: Record<string, number> = Object.fromEntries(storeIds.map((id) => [String(id), 0]));
  let none = 0;
  for (const r of regions) {
    if (r.leader === undefined) none++;
    else byStore[String(r.leader.storeId)] = (byStore[String(r.leader.storeId)] ?? 0) + 1;
  }
  return { byStore, none };
}

/** "3/3/2" in store id order, with " (1 without)" when some Region has no leader. */
export function formatLeaderLayout(l: LeaderLayout): string {
  const counts = Object.entries(l.byStore)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, n]) => String(n))
    .join('/');
  return l.none > 0 ? `${counts} (${l.none} without)` : counts;
}

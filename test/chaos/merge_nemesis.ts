// The merge nemesis: two adjacent Regions from PD's list are merged through PD's
// MergeRegions — the call `nyx region merge <source> <target>` makes — which answers once
// PD's map shows the target covering both ranges (PrepareMerge fences the source,
// CommitMerge on the target copies its rows: src/store/merge_apply.ts, after TiKV).
//
// A refusal is a normal outcome, counted and logged as "not done": PD refuses a pair whose
// peers are not on the same stores (a replica move or a failpoint crash left them apart),
// and the source's leader refuses to prepare while a replica lags, a conf change or an
// admin command is not applied everywhere, or the epochs moved (PD then answers
// "did not merge within …"). A merge whose fence never lifts is not a refusal: the
// availability probe after the heal writes into every Region, the fenced one included.
//
// Merges take Regions away; the split nemesis makes them. Run the two together
// (`--nemesis merge,split`): they take turns, so the count hovers around the start.
// Alone, merge stops at MIN_REGIONS and logs the rest as not done.
import type { ChaosCluster, RegionView } from './chaos_cluster.js';
import type { Fault, HealNote, Nemesis } from './nemesis.js';
import { describeError } from './outcome.js';
import type { SimRng } from '../sim/rng.js';

/** How long PD may take to show a merge; a merge of small Regions takes well under 1 s. */
export const MERGE_TIMEOUT_MS = 15_000;

/** The nemesis never merges below this many Regions (the workload's keys stay spread). */
export const MIN_REGIONS = 2;

/** When both kinds of pair exist, a pair on the same stores (one PD will try) this often. */
const SAME_STORES_CHANCE = 0.8;

export interface MergePair {
  source: RegionView;
  target: RegionView;
  /** Peers on exactly the same stores: PD's precondition (src/pd/merge.ts sameStores). */
  sameStores: boolean;
}

function storesOf(r: RegionView): number[] {
  return [...new Set(r.peers.map((p) => p.storeId))].sort((a, b) => a - b);
}

export function onSameStores(a: RegionView, b: RegionView): boolean {
  const x = storesOf(a);
  const y = storesOf(b);
  return x.length === y.length && x.every((s, i) => s === y[i]);
}

/** Neighbours in key order: the first ends exactly where the second starts. */
export function adjacentPairs(regions: readonly RegionView[]): [RegionView, RegionView][] {
  // '' (the first Region's start) sorts first; the workloads' keys are ASCII text.
  const sorted = [...regions].sort((a, b) =>
    a.startKey < b.startKey ? -1 : a.startKey > b.startKey ? 1 : 0,
  );
  const pairs: [RegionView, RegionView][] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [a, b] = [sorted[i]!, sorted[i + 1]!];
    if (a.endKey !== '' && a.endKey === b.startKey) pairs.push([a, b]);
  }
  return pairs;
}

/**
 * Two adjacent Regions and which one goes away. Mostly a pair PD will accept (peers on
 * the same stores), sometimes any pair, so PD's refusal is exercised too; `sameStoresOnly`
 * for a caller that needs the merge to happen. Undefined when there is no such pair.
 */
export function pickMerge(
  rng: SimRng,
  regions: readonly RegionView[],
  sameStoresOnly = false,
): MergePair | undefined {
  const all = adjacentPairs(regions);
  const same = all.filter(([a, b]) => onSameStores(a, b));
  const from = sameStoresOnly || (same.length > 0 && rng.chance(SAME_STORES_CHANCE)) ? same : all;
  if (from.length === 0) return undefined;
  const [a, b] = rng.pick(from);
  const [source, target] = rng.chance(0.5) ? [a, b] : [b, a];
  return { source, target, sameStores: onSameStores(a, b) };
}

function notDone(what: string, why: string, rng: SimRng, heal?: Fault['heal']): Fault {
  return {
    description: `${what}: not done (${why})`,
    holdMs: rng.int(200, 1000),
    missed: why,
    heal: heal ?? (async () => {}),
  };
}

export const mergeNemesis: Nemesis = {
  name: 'merge',
  async inject(rng, cluster) {
    let regions: RegionView[];
    try {
      regions = await cluster.regions();
    } catch (e) {
      return notDone('merge', `PD's Region list: ${describeError(e)}`, rng);
    }
    if (regions.length <= MIN_REGIONS) {
      return notDone('merge', `only ${regions.length} Regions (pair with split)`, rng);
    }
    const pair = pickMerge(rng, regions);
    if (!pair) return notDone('merge', 'no two adjacent Regions in PD’s list', rng);
    const { source, target } = pair;
    const what =
      `merge region ${source.id} into region ${target.id}` +
      (pair.sameStores ? '' : ' (peers on different stores)');
    const started = performance.now();
    try {
      const merged = await cluster.pd().mergeRegions(source.id, target.id, MERGE_TIMEOUT_MS);
      return {
        description:
          `${what}: region ${merged.region.id} covers both after ` +
          `${Math.round(performance.now() - started)} ms (${regions.length - 1} Regions)`,
        holdMs: rng.int(500, 2000),
        async heal() {},
      };
    } catch (e) {
      // Refused. If it was only slow, the source's leader may still finish it: the heal
      // says which, and the availability probe checks that the source serves either way.
      return notDone(what, describeError(e), rng, () => mergeOutcome(cluster, source.id));
    }
  },
};

async function mergeOutcome(cluster: ChaosCluster, sourceId: number): Promise<HealNote> {
  const regions = await cluster.regions().catch(() => undefined);
  if (!regions) return { note: `PD did not list its Regions; region ${sourceId} unknown` };
  return {
    note: regions.some((r) => r.id === sourceId)
      ? `region ${sourceId} is still in PD's map`
      : `region ${sourceId} merged after all`,
  };
}

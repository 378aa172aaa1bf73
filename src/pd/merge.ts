// PD's part in merging two Regions: the checks of a merge asked for by hand (MergeRegions,
// `nyx region merge`) or by the merge checker, and when PD's map shows it done. The
// merge itself is the stores': PrepareMerge on the source's leader, CommitMerge on the
// target's (src/store/merge_apply.ts); PD learns the result from the target's heartbeat,
// whose wider range replaces the source in the Region tree (cluster.ts regionHeartbeat).
import { type Region } from '../region/meta.js';
import { PdError, PdErrorCode } from './errors.js';

/** Does one Region end exactly where the other starts? */
export function regionsAdjacent(a: Region, b: Region): boolean {
  return (
    (a.endKey.length > 0 && a.endKey.equals(b.startKey)) ||
    (b.endKey.length > 0 && b.endKey.equals(a.startKey))
  );
}

/** The stores of a Region's peers, sorted. */
export function storesOf(r: Region): number[] {
  return [...new Set(r.peers.map((p) => p.storeId))].sort((a, b) => a - b);
}

/** Do both Regions have peers on exactly the same stores (a merge's precondition)? */
export function sameStores(a: Region, b: Region): boolean {
  const x = storesOf(a);
  const y = storesOf(b);
  return x.length === y.length && x.every((s, i) => s === y[i]);
}

/** Why `source` cannot merge into `target` now, in words; undefined if it can. */
export function mergeRefusal(source: Region, target: Region): string | undefined {
  if (source.id === target.id) return `region ${source.id} cannot merge into itself`;
  if (!regionsAdjacent(source, target))
    return `regions ${source.id} and ${target.id} are not adjacent`;
  if (!sameStores(source, target))
    return (
      `regions ${source.id} and ${target.id} have peers on different stores ` +
      `([${storesOf(source).join(', ')}] vs [${storesOf(target).join(', ')}]): move a replica first`
    );
  return undefined;
}

export function checkMerge(source: Region, target: Region): void {
  const why = mergeRefusal(source, target);
  if (why) throw new PdError(PdErrorCode.InvalidArgument, why);
}

/**
 * Has PD's map taken the merge of `source` into `target` (both as they were when it was
 * asked)? The source is gone and the target, at a newer version, covers both ranges.
 */
export function mergeVisible(
  source: Region,
  target: Region,
  lookup: { byId(id: number): Region | undefined },
): boolean {
  if (lookup.byId(source.id)) return false;
  const t = lookup.byId(target.id);
  if (!t || t.epoch.version <= target.epoch.version) return false;
  const start =
    Buffer.compare(source.startKey, target.startKey) < 0 ? source.startKey : target.startKey;
  const end =
    source.endKey.length === 0 || target.endKey.length === 0
      ? Buffer.alloc(0)
      : Buffer.compare(source.endKey, target.endKey) > 0
        ? source.endKey
        : target.endKey;
  return (
    Buffer.compare(t.startKey, start) <= 0 &&
    (t.endKey.length === 0 || (end.length > 0 && Buffer.compare(end, t.endKey) <= 0))
  );
}

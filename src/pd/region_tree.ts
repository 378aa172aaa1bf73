// The Region map ordered by start key. Regions in the tree never overlap; lookups are a
// binary search over an array sorted by start key (O(log n)); updates splice the array
// (O(n) moves, which is cheap next to the heartbeat that caused them).
//
// update() replaces every region the new one overlaps, as PD's tree does: when a split
// is reported, the first child to arrive evicts the parent, leaving a gap that the other
// child fills on its own heartbeat. The tree therefore may have gaps, and getRegion() of
// a key in a gap finds nothing. Whether an update should be accepted at all (epochs) is
// the cluster's decision, not the tree's.
//
// The tree stores the objects it is given; callers that hand regions out clone them.

import { keyInRegion, type Region, type RegionId } from '../region/meta.js';

type KeyRange = Pick<Region, 'startKey' | 'endKey'>;

/** Does r reach past key? (Its end is +infinity or greater than key.) */
function endsAfter(r: KeyRange, key: Uint8Array): boolean {
  return r.endKey.length === 0 || Buffer.compare(r.endKey, key) > 0;
}

/** Is key before the (exclusive) end of a range? */
function beforeEnd(key: Uint8Array, end: Uint8Array): boolean {
  return end.length === 0 || Buffer.compare(key, end) < 0;
}

export class RegionTree {
  private readonly sorted: Region[] = [];
  private readonly byId = new Map<RegionId, Region>();

  get size(): number {
    return this.sorted.length;
  }

  /** All regions in key order. */
  all(): readonly Region[] {
    return this.sorted;
  }

  /** The region containing key, if PD knows one. */
  getRegion(key: Uint8Array): Region | undefined {
    const i = this.floorIndex(key);
    if (i < 0) return undefined;
    const r = this.sorted[i]!;
    return keyInRegion(key, r) ? r : undefined;
  }

  getRegionById(id: RegionId): Region | undefined {
    return this.byId.get(id);
  }

  /** Regions intersecting [startKey, endKey), in key order. */
  overlaps(range: KeyRange): Region[] {
    const [a, b] = this.overlapSpan(range.startKey, range.endKey, 0);
    return this.sorted.slice(a, b);
  }

  /**
   * Regions intersecting [start, end) in key order, beginning with the one that contains
   * start; an empty end means no upper bound; limit <= 0 means no limit.
   */
  scanRegions(start: Uint8Array, end: Uint8Array, limit = 0): Region[] {
    const [a, b] = this.overlapSpan(start, end, limit);
    return this.sorted.slice(a, b);
  }

  /**
   * Inserts or replaces `region`, removing every region it overlaps and any older entry
   * with the same id. Returns the removed regions (the old version of this id included).
   */
  update(region: Region): Region[] {
    const removed: Region[] = [];
    const old = this.byId.get(region.id);
    if (old && !this.intersects(old, region)) {
      // Same id but a disjoint old range (it will not be caught by the overlap scan).
      this.removeAt(this.indexOf(old));
      removed.push(old);
    }
    const [a, b] = this.overlapSpan(region.startKey, region.endKey, 0);
    const evicted = this.sorted.splice(a, b - a, region);
    for (const r of evicted) {
      this.byId.delete(r.id);
      removed.push(r);
    }
    this.byId.set(region.id, region);
    return removed;
  }

  remove(id: RegionId): Region | undefined {
    const r = this.byId.get(id);
    if (r) this.removeAt(this.indexOf(r));
    return r;
  }

  // --- internals ---

  /** Index of the last region whose start key <= key, or -1. */
  private floorIndex(key: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length; // answer in [lo-1, hi-1]
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.sorted[mid]!.startKey, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** [a, b): the index span of regions intersecting [start, end), at most limit long. */
  private overlapSpan(start: Uint8Array, end: Uint8Array, limit: number): [number, number] {
    const i = this.floorIndex(start);
    const a = i >= 0 && endsAfter(this.sorted[i]!, start) ? i : i + 1;
    let b = a;
    while (
      b < this.sorted.length &&
      beforeEnd(this.sorted[b]!.startKey, end) &&
      (limit <= 0 || b - a < limit)
    ) {
      b++;
    }
    return [a, b];
  }

  private intersects(x: KeyRange, y: KeyRange): boolean {
    return beforeEnd(x.startKey, y.endKey) && beforeEnd(y.startKey, x.endKey);
  }

  private indexOf(r: Region): number {
    const i = this.floorIndex(r.startKey);
    if (i < 0 || this.sorted[i] !== r) throw new Error(`region ${r.id} is not in the tree`);
    return i;
  }

  private removeAt(i: number): void {
    const [r] = this.sorted.splice(i, 1);
    this.byId.delete(r!.id);
  }
}

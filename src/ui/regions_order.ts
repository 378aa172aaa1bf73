// Which Regions the regions view lists, in which order: the `s` key cycles the sort, `/`
// filters to the Regions whose range holds a key.
import { keyInRegion } from '../region/meta.js';
import type { RegionRow } from './snapshot.js';

export const SORT_KEYS = ['writes', 'reads', 'size', 'keys', 'id'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function nextSort(s: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(s) + 1) % SORT_KEYS.length];
}

function sortValue(r: RegionRow, key: SortKey): number | null {
  switch (key) {
    case 'writes':
      return r.writesPerSec;
    case 'reads':
      return r.readsPerSec;
    case 'size':
      return r.sizeBytes;
    case 'keys':
      return r.keys;
    case 'id':
      return -r.id;
  }
}

/** Largest first; unknown values last; ties by Region id so rows do not jump around. */
export function sortRegions(rows: RegionRow[], key: SortKey): RegionRow[] {
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va !== vb) {
      if (va === null) return 1;
      if (vb === null) return -1;
      return vb - va;
    }
    return a.id - b.id;
  });
}

/** Regions whose range holds `key` (typed as text, or 0x-prefixed hex); all when empty. */
export function filterRegions(rows: RegionRow[], key: string): RegionRow[] {
  if (key === '') return rows;
  const k = /^0x([0-9a-f]{2})*$/i.test(key)
    ? Buffer.from(key.slice(2), 'hex')
    : Buffer.from(key, 'latin1');
  return rows.filter((r) =>
    keyInRegion(k, {
      startKey: Buffer.from(r.startKey, 'hex'),
      endKey: Buffer.from(r.endKey, 'hex'),
    }),
  );
}

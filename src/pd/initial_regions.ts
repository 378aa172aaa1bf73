// The initial Region layout a fresh cluster is bootstrapped with. Pure functions: they
// decide where the key space is cut and build the Regions; the cluster persists them.
//
// "Even splits": N regions cut the two-byte prefix space 0x0000..0xFFFF into N equal
// slices. Split key i (1 <= i < N) is the big-endian two-byte value floor(i * 65536 / N);
// the first region starts at -infinity (empty key) and the last ends at +infinity, so
// every key, whatever its length, falls in exactly one region. This spreads binary keys
// (hashes, big-endian integers) evenly; keys sharing a text prefix, such as "user…",
// all land in one slice and should be given explicit split keys instead.

import { PeerRole, type Region, type StoreId } from '../region/meta.js';
import { PdError, PdErrorCode } from './errors.js';

/** How the key space is first cut: explicit split keys, or N even slices. */
export type InitialLayout = { splitKeys: Uint8Array[] } | { evenSplits: number };

export const MAX_EVEN_SPLITS = 1 << 16;

/** The N-1 split keys that cut the two-byte prefix space into N even slices. */
export function evenSplitKeys(n: number): Buffer[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVEN_SPLITS) {
    throw new PdError(
      PdErrorCode.InvalidArgument,
      `even splits must be an integer in [1, ${MAX_EVEN_SPLITS}], got ${n}`,
    );
  }
  const keys: Buffer[] = [];
  for (let i = 1; i < n; i++) {
    const k = Buffer.alloc(2);
    k.writeUInt16BE(Math.floor((i * MAX_EVEN_SPLITS) / n));
    keys.push(k);
  }
  return keys;
}

/** Sorted, de-duplicated split keys; the empty key is refused (it is -infinity already). */
export function normalizeSplitKeys(keys: Uint8Array[]): Buffer[] {
  const sorted = keys.map((k) => Buffer.from(k)).sort(Buffer.compare);
  const out: Buffer[] = [];
  for (const k of sorted) {
    if (k.length === 0) throw new PdError(PdErrorCode.InvalidArgument, 'empty split key');
    if (out.length === 0 || !out[out.length - 1]!.equals(k)) out.push(k);
  }
  return out;
}

/**
 * The layout a bootstrap request asks for, as the wire carries it: explicit split keys
 * when there are any, else even_splits slices when > 1, else one Region for all keys.
 */
export function layoutFromRequest(splitKeys: Uint8Array[], evenSplits: number): InitialLayout {
  if (splitKeys.length > 0) return { splitKeys };
  return { evenSplits: evenSplits > 1 ? evenSplits : 1 };
}

export function layoutSplitKeys(layout: InitialLayout): Buffer[] {
  return 'splitKeys' in layout
    ? normalizeSplitKeys(layout.splitKeys)
    : evenSplitKeys(layout.evenSplits);
}

/**
 * One Region per slice between consecutive split keys, each with a voter on every store
 * in storeIds, epoch {confVer: 1, version: 1}. Region ids come first, then peer ids, all
 * from allocId.
 */
export function buildInitialRegions(
  splitKeys: Buffer[],
  storeIds: StoreId[],
  allocId: () => number,
): Region[] {
  const bounds = [Buffer.alloc(0), ...splitKeys, Buffer.alloc(0)];
  const regions: Region[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const id = allocId();
    regions.push({
      id,
      startKey: bounds[i]!,
      endKey: bounds[i + 1]!,
      epoch: { confVer: 1, version: 1 },
      peers: storeIds.map((storeId) => ({ id: allocId(), storeId, role: PeerRole.Voter })),
    });
  }
  return regions;
}

/**
 * Checks the cluster-wide contract that regions tile the whole key space: sorted by
 * start key, the first starts at -infinity, each starts where the previous ended, the
 * last ends at +infinity, and none is empty. Returns a description of the first
 * violation, or undefined.
 */
export function findTilingViolation(regions: readonly Region[]): string | undefined {
  if (regions.length === 0) return 'no regions';
  const rs = [...regions].sort((a, b) => Buffer.compare(a.startKey, b.startKey));
  if (rs[0]!.startKey.length !== 0) return `region ${rs[0]!.id} does not start at -infinity`;
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    const last = i === rs.length - 1;
    if (r.endKey.length === 0) {
      if (!last) return `region ${r.id} ends at +infinity but is not the last`;
      continue;
    }
    if (Buffer.compare(r.startKey, r.endKey) >= 0) return `region ${r.id} is empty or inverted`;
    if (last) return `region ${r.id} is last but does not end at +infinity`;
    const next = rs[i + 1]!;
    const c = Buffer.compare(r.endKey, next.startKey);
    if (c < 0) return `gap between region ${r.id} and region ${next.id}`;
    if (c > 0) return `region ${r.id} overlaps region ${next.id}`;
  }
  return undefined;
}

// PD's part in splitting a Region: ids for the new Regions (AskBatchSplit), and the checks
// and the wait of a split asked for by hand (SplitRegions). The split itself is the
// Region leader's: it proposes it through Raft and every replica applies it
// (src/store/split_apply.ts); PD learns the result from the heartbeats of the halves.
import { keyInRegion, type Region } from '../region/meta.js';
import { PdError, PdErrorCode } from './errors.js';
import { MAX_REGION_PEERS } from './trust_limits.js';

/** New Regions one AskBatchSplit / SplitRegions may ask for (one split entry's bound). */
export const MAX_SPLIT_COUNT = 64;

export interface SplitIds {
  newRegionId: number;
  newPeerIds: number[];
}

/**
 * Ids for `count` new Regions of `region` as its leader sees it. PD's own record must not
 * be newer (a leader behind PD would split a range it no longer has); the peer count is
 * the leader's, since the split maps the leader's peer list in order.
 */
export function allocSplitIds(
  known: Region | undefined,
  asked: Region,
  count: number,
  alloc: () => number,
): SplitIds[] {
  if (!known) throw new PdError(PdErrorCode.RegionNotFound, `region ${asked.id} not found`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_SPLIT_COUNT)
    throw new PdError(
      PdErrorCode.InvalidArgument,
      `split count must be in 1..${MAX_SPLIT_COUNT}, got ${count}`,
    );
  if (asked.epoch.version < known.epoch.version || asked.epoch.confVer < known.epoch.confVer) {
    throw new PdError(
      PdErrorCode.StaleRegion,
      `region ${asked.id}: split asked at epoch {confVer: ${asked.epoch.confVer}, version: ${asked.epoch.version}}, ` +
        `PD has {confVer: ${known.epoch.confVer}, version: ${known.epoch.version}}`,
    );
  }
  const peers = asked.peers.length;
  if (peers < 1 || peers > MAX_REGION_PEERS)
    throw new PdError(PdErrorCode.InvalidArgument, `region ${asked.id}: ${peers} peers`);
  const ids: SplitIds[] = [];
  for (let i = 0; i < count; i++) {
    const newRegionId = alloc();
    const newPeerIds: number[] = [];
    for (let j = 0; j < peers; j++) newPeerIds.push(alloc());
    ids.push({ newRegionId, newPeerIds });
  }
  return ids;
}

/** Sorted, distinct split keys inside the Region and after its start; else InvalidArgument. */
export function checkSplitKeys(region: Region, keys: readonly Uint8Array[]): Buffer[] {
  if (keys.length === 0) throw new PdError(PdErrorCode.InvalidArgument, 'no split key given');
  if (keys.length > MAX_SPLIT_COUNT)
    throw new PdError(
      PdErrorCode.InvalidArgument,
      `at most ${MAX_SPLIT_COUNT} split keys, got ${keys.length}`,
    );
  const sorted = keys.map((k) => Buffer.from(k)).sort(Buffer.compare);
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i]!;
    if (i > 0 && k.equals(sorted[i - 1]!))
      throw new PdError(PdErrorCode.InvalidArgument, `split key ${show(k)} given twice`);
    if (!keyInRegion(k, region) || k.equals(region.startKey))
      throw new PdError(
        PdErrorCode.InvalidArgument,
        `split key ${show(k)} is not inside region ${region.id} [${show(region.startKey)}, ${show(region.endKey)})` +
          (k.equals(region.startKey) ? ' (it is its start key)' : ''),
      );
  }
  return sorted;
}

/**
 * Has PD's map taken the split of `original` at `keys`? Every key must start a Region at
 * a newer version than the original's, and the parent's id must be at a newer version
 * too (it keeps the leftmost range).
 */
export function splitVisible(
  original: Region,
  keys: readonly Buffer[],
  lookup: { byId(id: number): Region | undefined; byKey(k: Buffer): Region | undefined },
): boolean {
  const parent = lookup.byId(original.id);
  if (!parent || parent.epoch.version <= original.epoch.version) return false;
  return keys.every((k) => {
    const r = lookup.byKey(k);
    return r !== undefined && r.startKey.equals(k) && r.epoch.version > original.epoch.version;
  });
}

function show(k: Uint8Array): string {
  if (k.length === 0) return '""';
  const printable = k.every((b) => b >= 0x20 && b < 0x7f);
  return printable
    ? JSON.stringify(Buffer.from(k).toString('latin1'))
    : `0x${Buffer.from(k).toString('hex')}`;
}

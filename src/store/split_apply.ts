// The apply of a batch split (TiKV's exec_batch_split), run on every replica when the
// split's entry commits. It depends only on the entry and on the Region as earlier entries
// left it, so every replica cuts the same Regions with the same ids.
//
// The parent keeps the leftmost range [start, k1); new Region i covers [k_i, k_{i+1})
// (the last one up to the parent's end). Every half gets version + 1 and the parent's
// conf_ver; new Region i has one peer per peer of the parent, on the same store with the
// same role, with the peer ids PD allocated (AskBatchSplit) in the parent's peer order.
//
// Per-Region files mean a split moves data between databases, which cannot share one
// transaction. The steps, and what a crash (kill -9) after each leaves:
//
//   0. the caller commits the apply batch of the entries before the split, so the parent
//      file holds exactly the state at index - 1 (crash: the split is replayed);
//   1. per new Region: its session table is replaced by a copy of the parent's (session
//      records are not cut by key: a retry may reach either half), then each data table's
//      range is copied (copyRange clears the range in the target first, and commits every
//      few MiB), and LAST, in the final transaction of the final table, its meta, an
//      apply state at INITIAL_LOG_INDEX and the parent's merged records of its range
//      (region_state.ts MergedRecord). Crash before the meta: a file without meta, which
//      no restart loads as a peer; the split is replayed and copies again — the same result.
//      Crash after the meta: the file is a complete initial state of the new Region, but
//      the parent still covers its range; restart (PeerLoader.loadAll) does not load a
//      Region at its initial state whose range a Region of a lower version still covers,
//      and the replayed split copies again — the same result;
//   2. the parent: its moved ranges are deleted and its new meta written, in one
//      transaction with the split's apply index (a store runs it on a worker thread, in a
//      transaction that first checks the file is still at the entry before the split:
//      commitSplitParentIfAt). From here on the split is done: a crash
//      leaves new Regions whose files are complete and a parent that no longer covers
//      them; restart loads them all (PeerLoader.reconcile writes a new Region's missing
//      log state);
//   3. (raft_store.ts) the new peers are created: their Raft logs start at
//      INITIAL_LOG_INDEX like a bootstrapped Region's, the one on the parent leader's
//      store campaigns at once.
//
// A new Region's file may already be AHEAD of its initial state: a slow replica whose
// peer of the new Region was created from the new leader's messages and got a snapshot
// before this replica applied the split (TiKV's "new region already exists"). Its data
// came from the new Region's own log and is newer than the parent's: it is left alone.
//
// Until step 2 commits, none of this is visible: the new Regions' peers exist only after
// it, so nothing reads or writes a new Region's file before its copy is complete.
import { failpoint } from '../common/failpoint.js';
import { RegionError } from '../region/errors.js';
import { Region, cloneRegion, keyInRegion } from '../region/meta.js';
import { copyRange } from '../storage/region_split.js';
import { mvccBound } from '../txn/mvcc/key_codec.js';
import { RegionEngine } from '../storage/region_engine.js';
import { DATA_TABLES, DataTable } from '../storage/region_schema.js';
import { mergedRecordsFor } from '../storage/region_state.js';
import { SplitRequest } from './cmd/command.js';
import { INITIAL_LOG_INDEX, INITIAL_LOG_TERM } from './peer_loader.js';

/**
 * A split's copy commits the new Region's file every 1 MiB (copyRange chunkBytes): the new
 * Region is not loaded before its meta, which comes last, so the chunks are invisible.
 */
export const SPLIT_COPY_CHUNK_BYTES = 1 << 20;

/** What a split needs beyond the parent's own engine: the engines of the new Regions. */
export interface SplitContext {
  engineOf(regionId: number): RegionEngine;
}

export interface SplitResult {
  /** The parent as it is after the split (narrower, version + 1). */
  parent: Region;
  /** The new Regions in key order. */
  created: Region[];
  /** New Regions whose files were already ahead of the split (left alone, see above). */
  skipped: number[];
}

/**
 * Where a table's rows for user keys >= `userKey` begin. Raw keys are user keys. The MVCC
 * tables (lock / write / default) store the memcomparable encoding of the user key
 * (+ timestamp), which keeps bytewise order and is prefix-free, so every version of a
 * user key sorts at or after enc(userKey) and before enc(next user key): no user key's
 * versions are torn apart (src/txn/mvcc/key_codec.ts).
 */
function splitBoundForTable(table: DataTable, userKey: Buffer): Buffer {
  return table === 'raw' ? userKey : mvccBound(userKey);
}

function bound(table: DataTable, key: Buffer): Buffer {
  // An empty key is -infinity / +infinity: it stays empty in every encoding.
  return key.length === 0 ? key : splitBoundForTable(table, key);
}

/**
 * The Regions a split produces, or why the split cannot apply (every replica decides the
 * same from the same entry). Does not touch any engine.
 */
export function deriveSplit(
  parent: Region,
  splits: readonly SplitRequest[],
): { parent: Region; created: Region[] } | RegionError {
  const version = parent.epoch.version + 1;
  const ids = new Set<number>([parent.id]);
  const peerIds = new Set<number>(parent.peers.map((p) => p.id));
  let prev = parent.startKey;
  for (const s of splits) {
    // Each key strictly after the previous one (the parent's start first) and inside the
    // parent, so that every half is non-empty.
    if (Buffer.compare(s.splitKey, prev) <= 0 || !keyInRegion(s.splitKey, parent)) {
      return new RegionError({
        kind: 'KeyNotInRegion',
        key: s.splitKey,
        regionId: parent.id,
        startKey: parent.startKey,
        endKey: parent.endKey,
      });
    }
    prev = s.splitKey;
    if (s.newPeerIds.length !== parent.peers.length || ids.has(s.newRegionId))
      throw new SplitCommandError(`split of region ${parent.id}: ids do not fit the region`);
    ids.add(s.newRegionId);
    for (const id of s.newPeerIds) {
      if (peerIds.has(id)) throw new SplitCommandError(`split reuses peer id ${id}`);
      peerIds.add(id);
    }
  }
  const created: Region[] = splits.map((s, i) => ({
    id: s.newRegionId,
    startKey: Buffer.from(s.splitKey),
    endKey: Buffer.from(i + 1 < splits.length ? splits[i + 1]!.splitKey : parent.endKey),
    epoch: { confVer: parent.epoch.confVer, version },
    peers: parent.peers.map((p, j) => ({ ...p, id: s.newPeerIds[j]! })),
  }));
  const narrowed = cloneRegion(parent);
  narrowed.endKey = Buffer.from(splits[0]!.splitKey);
  narrowed.epoch.version = version;
  return { parent: narrowed, created };
}

/** A split entry whose ids cannot be right (PD allocates distinct ones): refused alike. */
export class SplitCommandError extends Error {}

/** Is the new Region's file already past the initial state this split would give it? */
function aheadOfSplit(engine: RegionEngine, region: Region): boolean {
  if (!engine.exists()) return false;
  const local = engine.regionState();
  if (!local) return false;
  if (local.tombstone) return true; // its peer here was removed since: never resurrect
  return (
    engine.applyState().appliedIndex > INITIAL_LOG_INDEX ||
    local.region.epoch.version > region.epoch.version
  );
}

/**
 * Step 1 for every new Region: returns the ids of those left alone (already ahead). Pure
 * engine work with no failpoints or loop state, so a worker thread can run it on its own
 * connections (split_copy_worker.ts): the parent's rows it reads are frozen meanwhile —
 * the parent applies nothing more until step 2 (peer.ts holds its later entries).
 */
export function copySplitData(
  parentEngine: RegionEngine,
  created: readonly Region[],
  engineOf: (regionId: number) => RegionEngine,
): number[] {
  const skipped: number[] = [];
  const records = parentEngine.mergedRecords();
  for (const r of created) {
    const target = engineOf(r.id);
    if (aheadOfSplit(target, r)) {
      skipped.push(r.id);
      continue;
    }
    copyRange(parentEngine, target, Buffer.alloc(0), Buffer.alloc(0), { tables: ['session'] });
    DATA_TABLES.forEach((t, i) => {
      const last = i === DATA_TABLES.length - 1;
      copyRange(parentEngine, target, bound(t, r.startKey), bound(t, r.endKey), {
        tables: [t],
        chunkBytes: SPLIT_COPY_CHUNK_BYTES,
        ...(last
          ? {
              targetRegion: { region: r, tombstone: false },
              targetApply: { appliedIndex: INITIAL_LOG_INDEX, appliedTerm: INITIAL_LOG_TERM },
              // The merges its range took in travel with it (region_state.ts MergedRecord).
              targetMerged: mergedRecordsFor(records, r),
            }
          : {}),
      });
    });
  }
  return skipped;
}

/** Step 2's writes: the parent gives up [k1, end) of every data table. */
function parentCut(split: { parent: Region; created: Region[] }) {
  const cut = split.created[0]!.startKey;
  const end = split.created[split.created.length - 1]!.endKey;
  return DATA_TABLES.map((t) => ({
    op: 'deleteRange' as const,
    table: t,
    start: bound(t, cut),
    end: bound(t, end),
  }));
}

/** Step 2: the parent gives up [k1, end) of every data table with its new meta. */
export function commitSplitParent(
  parentEngine: RegionEngine,
  split: { parent: Region; created: Region[] },
  apply: { index: number; term: number },
): void {
  parentEngine.applyBatch(
    parentCut(split),
    { appliedIndex: apply.index, appliedTerm: apply.term },
    { region: split.parent, tombstone: false },
  );
}

/**
 * Step 2 on a connection of its own (a worker thread), only over the state the split
 * applies to: the parent file still at `before` (the entry before the split). Returns
 * false, writing nothing, if the file moved on (it cannot while the parent holds its
 * entries and takes no snapshot, peer.ts: a broken invariant the caller reports).
 */
export function commitSplitParentIfAt(
  parentEngine: RegionEngine,
  split: { parent: Region; created: Region[] },
  apply: { index: number; term: number },
  before: { appliedIndex: number; appliedTerm: number },
): boolean {
  return parentEngine.applyBatchIfAt(
    before,
    parentCut(split),
    { appliedIndex: apply.index, appliedTerm: apply.term },
    { region: split.parent, tombstone: false },
  );
}

export function splitResult(
  split: { parent: Region; created: Region[] },
  skipped: number[],
): SplitResult {
  return { parent: cloneRegion(split.parent), created: split.created.map(cloneRegion), skipped };
}

/**
 * Steps 1 and 2 above, on the calling thread. The caller has committed everything before
 * this entry (step 0) and passes the split entry's index and term, which become the
 * parent's apply state.
 */
export function applySplit(
  parentEngine: RegionEngine,
  split: { parent: Region; created: Region[] },
  apply: { index: number; term: number },
  ctx: SplitContext,
): SplitResult {
  failpoint('split_copy_before');
  const skipped = copySplitData(parentEngine, split.created, (id) => ctx.engineOf(id));
  failpoint('split_copy_after');
  commitSplitParent(parentEngine, split, apply);
  failpoint('split_parent_after');
  return splitResult(split, skipped);
}

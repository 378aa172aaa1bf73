// The apply of a Region merge, TiKV's way (exec_prepare_merge / exec_commit_merge /
// exec_rollback_merge), run on every replica when the entries commit. Source and target
// are adjacent Regions with peers on exactly the same stores, so every store that hosts
// a target replica hosts a source replica too, and the merge is a local move of rows from
// one file to another on each store.
//
//   PrepareMerge  (source's log) fences the source: version + 1 and conf_ver + 1, so every
//                 write, split or conf change proposed before it is refused at apply
//                 (epoch check), and the peer refuses new ones while the fence stands
//                 (peer.ts). The fence is recorded with the meta in one transaction:
//                 {minIndex, commit = this entry's index, the target as it was}.
//   CommitMerge   (target's log) carries the source as prepared, the prepare's index and
//                 the source's entries (minIndex, commit]. Every target replica first
//                 makes its local source replica reach the prepare point — from those
//                 entries if it lags, since the source group may be gone by then (the
//                 replicas that applied the merge destroyed theirs) — then moves the
//                 source's rows into the target file, extends the target's range and
//                 sets version = max(source, target) + 1; the store then destroys the
//                 source replica (tombstone). It applies only at the target epoch the
//                 prepare recorded: a target that split or changed members since refuses.
//   RollbackMerge (source's log) lifts the fence when the target can never commit (its
//                 epoch moved past the recorded one): version + 1 again.
//
// Per-Region files cannot share a transaction, so CommitMerge on a target replica is
// three steps, and a crash (kill -9) after each leaves:
//
//   0. the target's batch before the entry is committed; the local source replica has
//      applied up to its PrepareMerge (the catch-up commits in the source's own file).
//      Failpoint merge_copy_before. Crash: the target's log still holds the CommitMerge
//      above its apply index — that entry IS the durable record of the merge in progress
//      — so restart replays it; the source replica is loaded as it was, still fenced.
//   1. the source's data rows are copied into the target file (copyRange clears the
//      range in the target first; the target owns nothing there, so a second copy gives
//      the same rows). Failpoint merge_copy_after. Crash: rows outside the target's
//      range are invisible (every read and write is checked against the range); the
//      replayed CommitMerge copies again.
//   2. one target transaction: the source's session records merged into the target's,
//      the new meta, the record of this merge (region_state.ts MergedRecord) with the
//      source's own records of its range, and the entry's apply index. The merge is
//      done. Failpoint
//      merge_target_after. Crash: restart finds a fenced source replica whose range a
//      Region of a higher version covers, and destroys it (PeerLoader.loadAll) — the
//      same destroy step 3 would have made.
//   3. (raft_store.ts, end of the turn) the source replica is destroyed: tombstone in the
//      Raft log engine, then its file (peer_destroy.ts).
//
// The copy runs on the loop: the merge checker merges small Regions only (PD's
// max-merge-region-size, 20 MiB by default), a few tens of ms of copying.
import { failpoint } from '../common/failpoint.js';
import { Entry } from '../raft/index.js';
import { RegionError } from '../region/errors.js';
import { Region, cloneRegion } from '../region/meta.js';
import { copyRange } from '../storage/region_split.js';
import { RegionEngine, WriteOp } from '../storage/region_engine.js';
import { DATA_TABLES, DataTable } from '../storage/region_schema.js';
import { MergeState, mergedRecordsFor } from '../storage/region_state.js';
import { mvccBound } from '../txn/mvcc/key_codec.js';
import { CommitMergeCommand, PrepareMergeCommand, RollbackMergeCommand } from './cmd/command.js';
import { decodeSessionState, encodeSessionState } from './session_table.js';

/** What an applied merge command did (the peer and the store act on it). */
export type MergeOutcome =
  | { kind: 'prepared'; region: Region; merging: MergeState }
  | { kind: 'committed'; region: Region; source: Region }
  | { kind: 'rolledBack'; region: Region };

/** The local replica of a merge's source, as the target's apply needs it (peer.ts). */
export interface MergeSourceReplica {
  readonly engine: RegionEngine;
  region(): Region;
  appliedIndex(): number;
  merging(): MergeState | undefined;
  /** Entries [lo, hi) of this replica's own Raft log (those it has persisted). */
  localEntries(lo: number, hi: number): Entry[];
  /**
   * Whether a split of this replica is being copied off the loop (peer.ts startSplitCopy):
   * it applies nothing until the copy is done, so a CommitMerge could not catch it up.
   */
  splitInFlight(): boolean;
  /** Apply the source's committed entries (in order, the first right after appliedIndex). */
  catchUp(entries: Entry[]): void;
  /** Its rows now belong to the target: it applies nothing more (destroyed after the turn). */
  markMerged(): void;
}

/** A merge command that cannot be right on any replica (our proposers never make one). */
export class MergeCommandError extends Error {}

/** Do both Regions have their peers on the same set of stores? */
export function samePeerStores(a: Region, b: Region): boolean {
  const sa = new Set(a.peers.map((p) => p.storeId));
  const sb = new Set(b.peers.map((p) => p.storeId));
  return sa.size === sb.size && [...sa].every((s) => sb.has(s));
}

/** Does one Region end exactly where the other starts? */
export function adjacent(a: Region, b: Region): boolean {
  return (
    (a.endKey.length > 0 && a.endKey.equals(b.startKey)) ||
    (b.endKey.length > 0 && b.endKey.equals(a.startKey))
  );
}

/** The source fenced by a PrepareMerge at `index`, or why it cannot prepare. */
export function derivePrepare(
  source: Region,
  current: MergeState | undefined,
  cmd: PrepareMergeCommand,
  index: number,
): { region: Region; merging: MergeState } | Error {
  if (current) return new MergeCommandError(`region ${source.id} is merging already`);
  if (cmd.target.id === source.id)
    return new MergeCommandError('a region cannot merge into itself');
  if (!adjacent(source, cmd.target))
    return new MergeCommandError(`regions ${source.id} and ${cmd.target.id} are not adjacent`);
  if (!samePeerStores(source, cmd.target))
    return new MergeCommandError(
      `regions ${source.id} and ${cmd.target.id} do not have peers on the same stores`,
    );
  if (cmd.minIndex >= index)
    return new MergeCommandError(`min index ${cmd.minIndex} is not below the prepare ${index}`);
  const region = cloneRegion(source);
  region.epoch.version += 1;
  region.epoch.confVer += 1;
  return {
    region,
    merging: { minIndex: cmd.minIndex, commit: index, target: cloneRegion(cmd.target) },
  };
}

/** The target after taking in the source, or why the CommitMerge cannot apply. */
export function deriveCommit(target: Region, cmd: CommitMergeCommand): Region | Error {
  const source = cmd.source;
  if (!adjacent(source, target) || !samePeerStores(source, target))
    return new MergeCommandError(
      `commit merge of region ${source.id} into ${target.id}: not adjacent on the same stores`,
    );
  if (cmd.entries.length > 0) {
    const last = cmd.entries[cmd.entries.length - 1]!;
    if (last.index !== cmd.commit)
      return new MergeCommandError(`commit merge entries end at ${last.index}, not ${cmd.commit}`);
    for (let i = 1; i < cmd.entries.length; i++)
      if (cmd.entries[i]!.index !== cmd.entries[i - 1]!.index + 1)
        return new MergeCommandError('commit merge entries are not contiguous');
  }
  const merged = cloneRegion(target);
  if (source.endKey.length > 0 && source.endKey.equals(target.startKey)) {
    merged.startKey = Buffer.from(source.startKey);
  } else {
    merged.endKey = Buffer.from(source.endKey);
  }
  merged.epoch.version = Math.max(source.epoch.version, target.epoch.version) + 1;
  return merged;
}

/** The source with its fence lifted, or why this rollback does not apply. */
export function deriveRollback(
  source: Region,
  current: MergeState | undefined,
  cmd: RollbackMergeCommand,
): Region | Error {
  if (!current || current.commit !== cmd.commit)
    return new MergeCommandError(
      `region ${source.id}: no merge prepared at ${cmd.commit} to roll back`,
    );
  const region = cloneRegion(source);
  region.epoch.version += 1;
  return region;
}

/** PrepareMerge and RollbackMerge: the source's new meta (and fence) with the apply index. */
export function commitSourceState(
  engine: RegionEngine,
  region: Region,
  merging: MergeState | undefined,
  apply: { index: number; term: number },
): void {
  engine.applyBatch(
    [],
    { appliedIndex: apply.index, appliedTerm: apply.term },
    merging ? { region, tombstone: false, merging } : { region, tombstone: false },
  );
}

function bound(table: DataTable, key: Buffer): Buffer {
  return key.length === 0 || table === 'raw' ? key : mvccBound(key);
}

/**
 * The local source replica at the prepare point: caught up from the carried entries when
 * it lags. Anything else means this store's replicas disagree with the log — fail loudly.
 */
export function catchUpSource(source: MergeSourceReplica, cmd: CommitMergeCommand): void {
  const applied = source.appliedIndex();
  if (applied < cmd.commit) {
    let todo = cmd.entries.filter((e) => e.index > applied);
    const first = todo[0]?.index ?? cmd.commit + 1;
    if (first > applied + 1) {
      // The carried entries start after minIndex, and every source replica had the log up
      // to minIndex when the prepare was proposed (its match), but it may not have applied
      // that far: the entries between come from its own log, which agrees with the
      // leader's up to its match (Log Matching), so they are the committed ones.
      const own = source.localEntries(applied + 1, first);
      todo = [...own, ...todo];
    }
    if (todo.length === 0 || todo[0]!.index !== applied + 1)
      throw new MergeCommandError(
        `region ${cmd.source.id} applied ${applied}, and the commit merge carries ` +
          `${cmd.entries[0]?.index ?? '-'}..${cmd.commit}: it cannot catch up`,
      );
    source.catchUp(todo);
  }
  const m = source.merging();
  if (!m || m.commit !== cmd.commit)
    throw new MergeCommandError(
      `region ${cmd.source.id} is not fenced by the prepare at ${cmd.commit} ` +
        `(its merge state: ${m ? `prepared at ${m.commit}` : 'none'})`,
    );
  if (source.region().epoch.version !== cmd.source.epoch.version)
    throw new MergeCommandError(
      `region ${cmd.source.id} is at version ${source.region().epoch.version}, ` +
        `the merge expects ${cmd.source.epoch.version}`,
    );
}

/** Session records of both Regions, per session id: a retry may reach either half's keys. */
function mergedSessionRows(source: RegionEngine, target: RegionEngine): WriteOp[] {
  const ops: WriteOp[] = [];
  for (const row of source.scan({ table: 'session' })) {
    const theirs = decodeSessionState(row.value!);
    const mineRaw = target.get('session', row.key);
    if (mineRaw === undefined) {
      ops.push({ op: 'put', table: 'session', key: row.key, value: row.value! });
      continue;
    }
    const mine = decodeSessionState(mineRaw);
    // Union of the records; the higher floor (below it the client asks for nothing more,
    // and a record kept from either side still answers its retry first); the later time.
    for (const [seq, r] of theirs.records) if (!mine.records.has(seq)) mine.records.set(seq, r);
    mine.floor = Math.max(mine.floor, theirs.floor);
    mine.lastActiveMs = Math.max(mine.lastActiveMs, theirs.lastActiveMs);
    ops.push({ op: 'put', table: 'session', key: row.key, value: encodeSessionState(mine) });
  }
  return ops;
}

/**
 * Steps 0..2 of CommitMerge on a target replica (see the top of this file); the caller
 * has committed everything before the entry and destroys the source afterwards (step 3).
 */
export function applyCommitMerge(
  targetEngine: RegionEngine,
  source: MergeSourceReplica,
  cmd: CommitMergeCommand,
  merged: Region,
  apply: { index: number; term: number },
): void {
  catchUpSource(source, cmd);
  failpoint('merge_copy_before');
  const src = cmd.source;
  for (const t of DATA_TABLES)
    copyRange(source.engine, targetEngine, bound(t, src.startKey), bound(t, src.endKey), {
      tables: [t],
    });
  failpoint('merge_copy_after');
  targetEngine.applyBatch(
    mergedSessionRows(source.engine, targetEngine),
    { appliedIndex: apply.index, appliedTerm: apply.term },
    { region: merged, tombstone: false },
    [
      {
        source: src.id,
        commit: cmd.commit,
        target: merged.id,
        range: { startKey: Buffer.from(src.startKey), endKey: Buffer.from(src.endKey) },
      },
      // What the source's range took in before travels on with it.
      ...mergedRecordsFor(source.engine.mergedRecords(), src),
    ],
  );
  source.markMerged();
  failpoint('merge_target_after');
}

/** The answer to a request the merge fence turned away: retry shortly (the client refreshes). */
export function mergingError(regionId: number): RegionError {
  return new RegionError({
    kind: 'ServerIsBusy',
    reason: `region ${regionId} is merging`,
    backoffMs: 50,
  });
}

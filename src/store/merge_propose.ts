// The leader-side checks before a merge is proposed (TiKV's pre_propose_prepare_merge),
// and the CommitMerge's payload. None of them is needed for safety — apply re-checks epoch,
// adjacency and stores on every replica — they keep a merge from starting that could not
// finish: a source replica that needs a snapshot cannot be caught up from entries, and a
// conf change or split among the entries a CommitMerge carries would be applied outside
// its own Raft group's ordering.
import { EntryType, Entry, Raft } from '../raft/index.js';
import { Region, isJoint } from '../region/meta.js';
import { MergeState } from '../storage/region_state.js';
import { decodeCommand } from './cmd/command.js';
import { MAX_MERGE_ENTRIES } from './cmd/command.js';
import { adjacent, samePeerStores } from './merge_apply.js';

/** minIndex for PrepareMerge, or why the source cannot prepare now. */
export function checkPrepareMerge(
  source: Region,
  target: Region,
  raft: Raft,
  appliedIndex: number,
): { minIndex: number } | string {
  if (!adjacent(source, target)) return `region ${target.id} is not adjacent`;
  if (!samePeerStores(source, target))
    return `regions ${source.id} and ${target.id} do not have peers on the same stores`;
  if (isJoint(source)) return 'it is in a joint configuration';
  if (raft.pendingConfIndex > appliedIndex) return 'a conf change is not applied yet';
  let minIndex = raft.raftLog.lastIndex();
  for (const [id, pr] of raft.trk.progress) {
    if (id === raft.id) continue;
    minIndex = Math.min(minIndex, pr.match);
  }
  const first = raft.raftLog.firstIndex();
  if (minIndex < first - 1)
    return `a replica is at ${minIndex}, behind the log's start ${first}: it needs a snapshot first`;
  const last = raft.raftLog.lastIndex();
  if (last - minIndex > MAX_MERGE_ENTRIES)
    return `a replica is ${last - minIndex} entries behind (at most ${MAX_MERGE_ENTRIES})`;
  if (last > minIndex) {
    for (const e of raft.raftLog.slice(minIndex + 1, last + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === EntryType.ConfChange)
        return `a conf change at ${e.index} is not applied everywhere`;
      if (e.data.length === 0) continue;
      try {
        if (decodeCommand(e.data).admin)
          return `an admin command at ${e.index} is not applied everywhere`;
      } catch {
        // A malformed entry applies as a no-op on every replica.
      }
    }
  }
  return { minIndex };
}

/** The source's entries (minIndex, commit] from this store's log, for a CommitMerge. */
export function commitMergeEntries(
  merging: MergeState,
  log: { entries(lo: number, hi: number, maxSize: number): Entry[]; firstIndex(): number },
): Entry[] | undefined {
  const lo = merging.minIndex + 1;
  if (lo > merging.commit) return [];
  // Compacted here (this replica applied past minIndex before the fence): a replica that
  // lags that far is caught up by the source's own Raft group, not by this proposer.
  if (log.firstIndex() > lo) return undefined;
  return log.entries(lo, merging.commit + 1, Number.MAX_SAFE_INTEGER);
}

// What one store can prove about a fenced merge source's fate from its own replica of the
// target (merge_runner.ts acts on it). A source prepared toward the target as PD recorded
// it; the target's log decides the rest, and every replica of the target applies that
// log in one order:
//
//   - a CommitMerge applies only at the recorded epoch (merge_apply.ts deriveCommit), and
//     writes a merged record (region_state.ts MergedRecord) in the same transaction;
//   - so once a replica of the target is past the recorded epoch WITHOUT that record, some
//     other change came first, and no CommitMerge of this prepare can ever apply. The
//     record travels in the Region's file, snapshots included, so this holds however the
//     replica got its state (log or snapshot), and any replica can tell, leader or not;
//   - a replica destroyed at its own end (the conf change that removed it, or the merge
//     that took it in: tombstone.ts appliedEnd) applied the log in order up to a point
//     past the recorded epoch; had the CommitMerge come first, this store's source
//     replica would have been taken in and destroyed with it, not left fenced. Only the
//     tombstone of the very peer the recorded target places here counts: an older
//     replica's, or one destroyed from outside (PD says it was removed, another Region's
//     snapshot covered it) says nothing about entries it may have missed.
//
// Anything else — no replica here yet (a learner PD added that has not had its snapshot),
// one behind the recorded epoch, a tombstone without that proof — proves nothing: the
// store waits, and the proof comes from this store later or from another one.
import {
  Region,
  RegionEpoch,
  epochEqual,
  findPeerOnStore,
  isEpochStale,
  rangeCovers,
} from '../region/meta.js';
import { MergedRecord, MergeState, sameMerge } from '../storage/region_state.js';
import type { Tombstone } from '../storage/tombstone.js';

export type MergeVerdict =
  /** The target took the source in: this store's source replica is garbage. */
  | { kind: 'merged' }
  /** The target is at the recorded epoch here: a CommitMerge proposed now can apply. */
  | { kind: 'atRecorded' }
  /** No CommitMerge of this prepare can ever apply: the source may roll back. */
  | { kind: 'cannotCommit'; why: string }
  /** Nothing proven here (yet). */
  | { kind: 'unknown' };

/** This store's replica of the target, as the verdict needs it. */
export interface LocalTarget {
  region: Region;
  merged: readonly MergedRecord[];
}

export function mergeVerdict(
  source: Region,
  m: MergeState,
  storeId: number,
  local: LocalTarget | undefined,
  tombstone: Tombstone | undefined,
): MergeVerdict {
  const recorded = m.target.epoch;
  if (local) {
    const e = local.region.epoch;
    if (local.merged.some((r) => sameMerge(r, { source: source.id, commit: m.commit })))
      return { kind: 'merged' };
    // Rows of the source's range belong to a target that covers it at a later version,
    // whichever merge brought them (a file written before merged records were kept).
    if (e.version > recorded.version && rangeCovers(local.region, source))
      return { kind: 'merged' };
    // Past the recorded epoch (the recorded one is stale against it), without the record.
    if (isEpochStale(recorded, e))
      return {
        kind: 'cannotCommit',
        why: `target at ${fmt(e)} moved past the recorded ${fmt(recorded)} without this merge`,
      };
    return epochEqual(e, recorded) ? { kind: 'atRecorded' } : { kind: 'unknown' };
  }
  const mine = findPeerOnStore(m.target, storeId);
  if (
    tombstone &&
    mine &&
    tombstone.appliedEnd &&
    tombstone.peerId === mine.id &&
    isEpochStale(recorded, tombstone)
  )
    return {
      kind: 'cannotCommit',
      why: `target replica ${mine.id} ended at ${fmt(tombstone)}, past the recorded ${fmt(recorded)}`,
    };
  return { kind: 'unknown' };
}

function fmt(e: RegionEpoch): string {
  return `${e.confVer}/${e.version}`;
}

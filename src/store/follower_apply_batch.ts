// A follower applies its committed entries in fewer, fuller batches.
//
// A leader applies at once: its clients wait for the apply. A follower's apply answers
// nobody (reads are served by leaders, and a follower that wins an election applies
// everything before it serves: its lease and ReadIndex reads wait for the apply index),
// so it may let entries wait a few milliseconds and apply several turns' worth in one
// transaction of its Region file. With many Regions a store follows most of them, and each
// turn carried about one entry per Region: a put cost about two follower transactions,
// each with its own statements, WAL frames and apply-state row.
//
// Waiting is as safe as the disk-space wait beside it (peer.ts heldEntries): the entries
// are committed and in the store's Raft log, so a restart applies them again from there,
// and the log is purged only below what the Region file holds (engine.flush()).
// What never waits: admin commands (split, merge) and conf changes, which change the
// Region itself, and everything once the peer is not a plain follower or a read waits.
import { Entry, EntryType } from '../raft/index.js';
import { isAdminPayload } from './cmd/command.js';

export interface FollowerApplyBatch {
  /** Apply once the oldest waiting entry has waited this long (the store's tick also applies). */
  maxDelayMs: number;
  /** Apply once this many entries wait. */
  maxEntries: number;
  /** Apply once the waiting entries' payloads reach this many bytes. */
  maxBytes: number;
}

export const DEFAULT_FOLLOWER_APPLY_BATCH: FollowerApplyBatch = {
  maxDelayMs: 20,
  maxEntries: 64,
  maxBytes: 256 * 1024,
};

/** Whether these entries, in apply order, may all wait for a fuller batch. */
export function mayWait(entries: readonly Entry[], limits: FollowerApplyBatch): boolean {
  if (entries.length >= limits.maxEntries) return false;
  let bytes = 0;
  for (const e of entries) {
    if (e.type !== EntryType.Normal || isAdminPayload(e.data)) return false;
    bytes += e.data.length;
    if (bytes >= limits.maxBytes) return false;
  }
  return true;
}

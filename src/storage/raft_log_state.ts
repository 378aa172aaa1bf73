// The persisted per-Region state of the Raft log engine, besides the entries: the hard
// state, the truncated state (the dummy entry before firstIndex, as MemoryStorage's
// ents[0]) and the metadata of the last installed snapshot.
import {
  ConfState,
  HardState,
  SnapshotMetadata,
  emptyConfState,
  emptyHardState,
} from '../raft/index.js';
import { StorageCorruptionError } from './errors.js';

export interface RegionLogState {
  hardState: HardState;
  /** Index and term of the entry just before firstIndex (compacted or snapshotted). */
  truncatedIndex: number;
  truncatedTerm: number;
  /** Index of the last entry (== truncatedIndex when the log holds no entries). */
  lastIndex: number;
  /** The last snapshot installed (index 0 when none): its confState seeds initialState. */
  snapshot: SnapshotMetadata;
}

export function emptyLogState(): RegionLogState {
  return {
    hardState: emptyHardState(),
    truncatedIndex: 0,
    truncatedTerm: 0,
    lastIndex: 0,
    snapshot: { index: 0, term: 0, confState: emptyConfState() },
  };
}

export function cloneLogState(s: RegionLogState): RegionLogState {
  return { ...s, hardState: { ...s.hardState }, snapshot: s.snapshot };
}

/** ConfState as JSON text: tiny, rarely written, and readable from a `sqlite3` shell. */
export function encodeConfState(cs: ConfState): string {
  return JSON.stringify({
    voters: cs.voters,
    votersOutgoing: cs.votersOutgoing,
    learners: cs.learners,
    learnersNext: cs.learnersNext,
    autoLeave: cs.autoLeave,
  });
}

export function decodeConfState(text: string): ConfState {
  try {
    const o = JSON.parse(text) as Partial<ConfState>;
    return {
      voters: o.voters ?? [],
      votersOutgoing: o.votersOutgoing ?? [],
      learners: o.learners ?? [],
      learnersNext: o.learnersNext ?? [],
      autoLeave: o.autoLeave ?? false,
    };
  } catch {
    throw new StorageCorruptionError(`unreadable conf state: ${text}`);
  }
}

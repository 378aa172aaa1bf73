// Cluster-wide Raft timing. A leader's lease is (election_ticks - 2) * tick_ms of ITS
// clock (src/store/peer.ts), and it is safe only because no follower can start an
// election sooner than that: followers wait at least election_ticks * tick_ms of THEIR
// clock (Raft thesis §6.4.1). That holds only if every store ticks alike, so the timing
// is a property of the cluster: the first store that reports it fixes it (persisted in
// pd.db), and PD refuses a store whose settings differ.
import { PdError, PdErrorCode } from './errors.js';

export interface RaftTiming {
  /** --tick-ms: the Raft tick interval. */
  tickMs: number;
  /** --election-ticks: ticks without a leader before an election. */
  electionTicks: number;
}

/** The store CLI's own lower bounds; the upper ones keep the lease arithmetic sane. */
export const TICK_MS_RANGE = [1, 60_000] as const;
export const ELECTION_TICKS_RANGE = [3, 10_000] as const;

export function validateRaftTiming(t: RaftTiming): void {
  const inRange = (v: number, [lo, hi]: readonly [number, number]) =>
    Number.isInteger(v) && v >= lo && v <= hi;
  if (!inRange(t.tickMs, TICK_MS_RANGE) || !inRange(t.electionTicks, ELECTION_TICKS_RANGE)) {
    throw new PdError(
      PdErrorCode.InvalidArgument,
      `Raft timing --tick-ms ${t.tickMs} --election-ticks ${t.electionTicks} is out of range ` +
        `(tick-ms ${TICK_MS_RANGE.join('..')}, election-ticks ${ELECTION_TICKS_RANGE.join('..')})`,
    );
  }
}

export function formatRaftTiming(t: RaftTiming): string {
  return `--tick-ms ${t.tickMs} --election-ticks ${t.electionTicks}`;
}

export function sameRaftTiming(a: RaftTiming, b: RaftTiming): boolean {
  return a.tickMs === b.tickMs && a.electionTicks === b.electionTicks;
}

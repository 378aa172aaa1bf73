// Whether a Raft group is at rest, so that it may stop ticking (TiKV's hibernate Regions,
// tikv/rfcs 2019-03-04-hibernate-raft). Pure reads of a node's state: the store decides
// when and how a group sleeps (src/store/hibernation.ts); these say only whether nothing
// is left in flight that needs a tick to make progress.
//
// A leader is quiescent when every entry it has is committed, applied and held by every
// peer it tracks (voters and learners alike: a lagging learner still needs appends), and
// nothing else is under way that ticks drive: no leadership transfer, no ReadIndex
// request, no unapplied membership change, nothing unpersisted. A follower agrees to sleep
// with such a leader when it follows that leader in that term and holds, has committed
// and has applied the very same last index.
import { NONE } from './types.js';
import type { Raft } from './raft.js';
import { StateRole } from './types.js';

/**
 * Everything this node has is persisted: nothing waits for a log write. (Messages still
 * queued to send do not count: a tick queues heartbeats, and what else could be queued —
 * appends, votes — comes with entries not yet matched or a state other than these.)
 */
function settled(raft: Raft): boolean {
  const u = raft.raftLog.unstable;
  return u.entries.length === 0 && u.snapshot === undefined;
}

/** Why a leader is not quiescent (undefined: it is), for logs and tests. */
export function leaderUnrest(raft: Raft): string | undefined {
  if (raft.state !== StateRole.Leader) return 'not leader';
  if (!settled(raft)) return 'unpersisted state';
  if (raft.leadTransferee !== NONE) return 'leadership transfer';
  const log = raft.raftLog;
  const last = log.lastIndex();
  if (log.committed !== last) return 'uncommitted entries';
  if (log.applied !== last) return 'unapplied entries';
  // The leader's own entry of its term must be committed (thesis §6.4: until then it
  // cannot even serve reads); after that, an idle group's last entry is of this term.
  if (log.zeroTermOnOutOfBounds(last) !== raft.term) return 'no entry of its term';
  if (raft.pendingConfIndex > log.applied) return 'membership change';
  if (raft.readOnly.pendingCount > 0) return 'read index';
  if (raft.trk.config.voters.outgoing.ids.size > 0) return 'joint configuration';
  for (const [id, pr] of raft.trk.progress) {
    if (id === raft.id) continue;
    if (pr.match !== last) return `peer ${id} behind`;
  }
  return undefined;
}

/** Whether a leader has nothing left to replicate, commit, apply or confirm. */
export function isQuiescentLeader(raft: Raft): boolean {
  return leaderUnrest(raft) === undefined;
}

/**
 * Whether a follower may sleep along with leader `leader` of term `term` whose last index
 * is `index`: it follows that leader in that term and has the same log, committed and
 * applied. A follower that is behind must not sleep: it would need appends that a sleeping
 * leader no longer sends.
 */
export function followerMaySleep(raft: Raft, leader: number, term: number, index: number): boolean {
  if (raft.state !== StateRole.Follower) return false;
  if (raft.term !== term || raft.lead !== leader) return false;
  if (!settled(raft)) return false;
  const log = raft.raftLog;
  return log.lastIndex() === index && log.committed === index && log.applied === index;
}

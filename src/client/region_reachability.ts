// What one call learned about a Region's replicas while it looked for the leader: which
// stores could not be reached, and whether a reachable one said the Region has no leader.
// When the call gives up, this turns "connection refused" or a bare NotLeader into the
// answer an operator needs: "region 5 has no leader (2 of 3 replicas unreachable)".
import { PeerRole, type Region, type StoreId } from '../region/meta.js';
import { NoLeaderError } from './errors.js';

export class RegionReachability {
  private readonly unreachable = new Set<StoreId>();
  /**
   * Each answering store's latest word on the leader: the store of the leader it named,
   * or 'none'. Only the latest counts: a follower names the old leader until it notices
   * that leader is gone, then says it knows none.
   */
  private readonly answers = new Map<StoreId, StoreId | 'none'>();

  unreachableStore(storeId: StoreId): void {
    this.unreachable.add(storeId);
    this.answers.delete(storeId);
  }

  /** A replica on `storeId` answered NotLeader, naming the leader's store or none. */
  answered(storeId: StoreId, leaderStore: StoreId | undefined): void {
    this.unreachable.delete(storeId);
    this.answers.set(storeId, leaderStore ?? 'none');
  }

  /**
   * The error to give up with when what the call saw says the Region has no leader: no
   * replica names a leader on a store the call could reach, and a replica said it knows
   * none, or so many voters were unreachable that the call could not reach a quorum.
   * Otherwise `last`, the error of the last attempt.
   */
  giveUpError(region: Region, last: Error): Error {
    const latest = [...this.answers.values()];
    if (latest.some((a) => a !== 'none' && !this.unreachable.has(a))) return last;
    const leaderless = latest.includes('none');
    const voters = region.peers.filter((p) => p.role !== PeerRole.Learner);
    const down = voters.filter((p) => this.unreachable.has(p.storeId)).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    if (!leaderless && voters.length - down >= quorum) return last;
    return new NoLeaderError(region.id, leaderless, down, voters.length, { cause: last });
  }
}

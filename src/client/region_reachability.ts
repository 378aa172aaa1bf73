// What one call learned about a Region's replicas while it looked for the leader: which
// stores could not be reached, and whether a reachable one said the Region has no leader.
// When the call gives up, this turns "connection refused" or a bare NotLeader into the
// answer an operator needs: "region 5 has no leader (2 of 3 replicas unreachable)".
import { PeerRole, type Region, type StoreId } from '../region/meta.js';
import { NoLeaderError } from './errors.js';

export class RegionReachability {
  private readonly unreachable = new Set<StoreId>();
  /** A replica answered NotLeader without naming a leader. */
  private leaderless = false;
  /** A replica named a leader. */
  private leaderSeen = false;

  unreachableStore(storeId: StoreId): void {
    this.unreachable.add(storeId);
  }

  answered(storeId: StoreId, outcome: 'noLeader' | 'leaderNamed'): void {
    this.unreachable.delete(storeId);
    if (outcome === 'noLeader') this.leaderless = true;
    else this.leaderSeen = true;
  }

  /**
   * The error to give up with when what the call saw says the Region has no leader: a
   * replica said it knows none, or so many voters were unreachable that the call could
   * not reach a quorum.
   * Otherwise `last`, the error of the last attempt.
   */
  giveUpError(region: Region, last: Error): Error {
    if (this.leaderSeen) return last;
    const voters = region.peers.filter((p) => p.role !== PeerRole.Learner);
    const down = voters.filter((p) => this.unreachable.has(p.storeId)).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    if (!this.leaderless && voters.length - down >= quorum) return last;
    return new NoLeaderError(region.id, this.leaderless, down, voters.length, { cause: last });
  }
}

// The leader lease that lets a leader serve linearizable reads without a quorum round.
//
// Why it is safe: a follower that heard from the leader ignores vote requests (check-quorum's
// lease, thesis §4.2.3) and does not campaign itself for at least an election timeout after
// that — also across a restart, since a Raft node created from storage assumes it just heard
// from a leader (RaftConfig.refuseVotesOnStart). If a quorum acknowledged something the leader
// sent at time T, no other leader can be elected before T + electionTimeout. We trust the lease
// until T + leaseMs with leaseMs shorter than that by a safety margin (timers can only fire
// late, which lengthens the real bound).
//
// What voids it (expire(): the validity goes, and the generation moves on so that
// acknowledgements of anything sent earlier no longer renew):
//   - leadership changed hands;
//   - a leadership transfer started: TimeoutNow makes its target campaign past the
//     followers' leases on purpose (§3.10). A transfer that is abandoned cannot do so
//     later: the core ignores a TimeoutNow once the leader's log moved past it and
//     confirms no reads until the abandonment is committed;
//   - a membership change was applied (expireOnConfChange): the promise is one of a quorum
//     of the configuration in force when it was counted; once the configuration changes,
//     a quorum of the new one may contain voters that never made it (new peers, peers
//     that were learners, joint configurations), and a renewal in flight may rest on
//     acknowledgements counted under the old configuration (the store renews at apply).

export class LeaderLease {
  private validUntil = 0;
  private generation = 0;

  constructor(private readonly leaseMs: number) {}

  /** A token to pass back to renew(): renewals from an older generation are ignored. */
  currentGeneration(): number {
    return this.generation;
  }

  /** A quorum acknowledged something sent at `sentAt` (wall-clock ms) in `generation`. */
  renew(sentAt: number, generation: number): void {
    if (generation !== this.generation) return;
    this.validUntil = Math.max(this.validUntil, sentAt + this.leaseMs);
  }

  isValid(now: number): boolean {
    return now < this.validUntil;
  }

  /** Leadership changed or a transfer started: nothing earlier counts any more. */
  expire(): void {
    this.validUntil = 0;
    this.generation++;
  }

  /**
   * A membership change was applied on this peer (call it for every applied ConfChange
   * entry, before the renewals of the same apply batch): the lease must be earned again
   * under the new configuration.
   */
  expireOnConfChange(): void {
    this.expire();
  }
}

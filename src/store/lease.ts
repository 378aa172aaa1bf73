// The leader lease that lets a leader serve linearizable reads without a quorum round.
//
// Why it is safe: a follower that heard from the leader ignores vote requests (check-quorum's
// lease, thesis §4.2.3) and does not campaign itself for at least an election timeout after
// that. If a quorum acknowledged something the leader sent at time T, no other leader can be
// elected before T + electionTimeout. We trust the lease until T + leaseMs with leaseMs
// shorter than that by a safety margin (timers can only fire late, which lengthens the real
// bound). A leadership transfer breaks the rule on purpose (TimeoutNow ignores the lease),
// so starting one bumps the generation and invalidates every renewal in flight.

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
}

// The leader's view of the group: the active configuration (possibly joint), one
// Progress per voter and learner, and the votes of the current election.
import { JointConfig, MajorityConfig, VoteResult } from '../quorum/index.js';
import { ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';

export interface TrackerConfig {
  voters: JointConfig;
  /** Learners: receive the log, never vote. Disjoint from the voters. */
  learners: Set<NodeId>;
  /**
   * Voters of the outgoing config that become learners when the joint config is left
   * (a voter cannot turn learner while it still votes in the outgoing half).
   */
  learnersNext: Set<NodeId>;
  /** Leave the joint configuration as soon as it is applied. */
  autoLeave: boolean;
}

export function emptyTrackerConfig(): TrackerConfig {
  return {
    voters: new JointConfig(),
    learners: new Set(),
    learnersNext: new Set(),
    autoLeave: false,
  };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: new JointConfig(
      new MajorityConfig(c.voters.incoming.ids),
      new MajorityConfig(c.voters.outgoing.ids),
    ),
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export function describeConfig(c: TrackerConfig): string {
  let s = `voters=${c.voters}`;
  if (c.learners.size) s += ` learners=(${[...c.learners].sort((a, b) => a - b).join(' ')})`;
  if (c.learnersNext.size)
    s += ` learners_next=(${[...c.learnersNext].sort((a, b) => a - b).join(' ')})`;
  if (c.autoLeave) s += ' autoleave';
  return s;
}

export type ProgressMap = Map<NodeId, Progress>;

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    const sorted = (s: Iterable<NodeId>) => [...s].sort((a, b) => a - b);
    return {
      voters: this.config.voters.incoming.sorted(),
      votersOutgoing: this.config.voters.outgoing.sorted(),
      learners: sorted(this.config.learners),
      learnersNext: sorted(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  /** One voter and no joint config: the leader commits alone. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.config.voters.isJoint();
  }

  /** The largest index acknowledged by a quorum of voters. */
  committed(): number {
    return this.config.voters.committedIndex((id) => this.progress.get(id)?.match);
  }

  /** Visit progresses in id order (deterministic message order). */
  visit(f: (id: NodeId, pr: Progress) => void): void {
    const ids = [...this.progress.keys()].sort((a, b) => a - b);
    for (const id of ids) f(id, this.progress.get(id)!);
  }

  /** Has a quorum been recently active? (check-quorum, thesis §6.2) */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, pr.recentActive);
    }
    return this.config.voters.voteResult(votes) === VoteResult.Won;
  }

  voterNodes(): NodeId[] {
    return [...this.config.voters.ids()].sort((a, b) => a - b);
  }

  learnerNodes(): NodeId[] {
    return [...this.config.learners].sort((a, b) => a - b);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Record a vote, keeping the first answer of each voter. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}

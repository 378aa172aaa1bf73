// Membership changes (thesis §4): computes the configuration and progress map that
// result from a change, without touching the live tracker, and checks the result's
// invariants. Two kinds:
//   simple: at most one voter added or removed (§4.1: any two majorities of the old and
//           new config then intersect, so no joint phase is needed);
//   joint:  enter C_old,new (decisions need majorities of both), later leave to C_new (§4.3).
import { RaftError, invariant } from '../errors.js';
import { JointConfig, MajorityConfig } from '../quorum/index.js';
import {
  Inflights,
  Progress,
  ProgressMap,
  TrackerConfig,
  cloneTrackerConfig,
} from '../tracker/index.js';
import { ConfChangeSingle, ConfChangeType, NodeId } from '../types.js';

/** A requested change is not allowed; the configuration is unchanged. */
export class ConfChangeError extends RaftError {}

export interface ConfChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

export class Changer {
  constructor(
    private readonly config: TrackerConfig,
    private readonly progress: ProgressMap,
    private readonly lastIndex: number,
    private readonly maxInflight: number,
    private readonly maxInflightBytes: number,
  ) {}

  enterJoint(autoLeave: boolean, ccs: ConfChangeSingle[]): ConfChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.isJoint()) throw new ConfChangeError('config is already joint');
    if (config.voters.incoming.size === 0) {
      // A zero-voter config only exists before the first configuration is applied.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    const joint = new JointConfig(
      new MajorityConfig(config.voters.incoming.ids),
      new MajorityConfig(config.voters.incoming.ids),
    );
    config.voters = joint;
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  leaveJoint(): ConfChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (!config.voters.isJoint()) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext = new Set();
    for (const id of config.voters.outgoing.ids) {
      const isVoter = config.voters.incoming.has(id);
      const isLearner = config.learners.has(id);
      if (!isVoter && !isLearner) progress.delete(id);
    }
    config.voters = new JointConfig(
      new MajorityConfig(config.voters.incoming.ids),
      new MajorityConfig(),
    );
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  simple(ccs: ConfChangeSingle[]): ConfChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.isJoint())
      throw new ConfChangeError("can't apply simple config change in joint config");
    this.apply(config, progress, ccs);
    const before = this.config.voters.incoming.ids;
    const after = config.voters.incoming.ids;
    let changed = 0;
    for (const id of before) if (!after.has(id)) changed++;
    for (const id of after) if (!before.has(id)) changed++;
    if (changed > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, ccs: ConfChangeSingle[]): void {
    for (const cc of ccs) {
      if (cc.nodeId === 0) continue; // etcd/raft ignores changes of node 0
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(config, progress, cc.nodeId);
          break;
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.ids.add(id);
  }

  /**
   * Make id a learner. A voter of the outgoing config cannot become a learner until the
   * joint config is left (it still votes there), so it is staged in learnersNext.
   */
  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    remove(config, progress, id);
    progress.set(id, pr); // remove() may have dropped it; keep the progress
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private initProgress(
    config: TrackerConfig,
    progress: ProgressMap,
    id: NodeId,
    isLearner: boolean,
  ): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.ids.add(id);
    // Start probing at the last index, as a new leader does (the follower's log is
    // unknown). A new peer counts as recently active so that check-quorum does not
    // step the leader down before the peer had a chance to answer.
    const pr = new Progress(
      Math.max(this.lastIndex, 1),
      new Inflights(this.maxInflight, this.maxInflightBytes),
      isLearner,
    );
    pr.recentActive = true;
    progress.set(id, pr);
  }

  /** Check the current state, then deep-copy it so the change never mutates the live one. */
  private checkAndCopy(): ConfChangeResult {
    const config = cloneTrackerConfig(this.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.progress) {
      const c = new Progress(pr.next, pr.inflights.clone(), pr.isLearner);
      c.match = pr.match;
      c.state = pr.state;
      c.pendingSnapshot = pr.pendingSnapshot;
      c.recentActive = pr.recentActive;
      c.msgAppFlowPaused = pr.msgAppFlowPaused;
      progress.set(id, c);
    }
    checkInvariants(config, progress);
    return { config, progress };
  }
}

function remove(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
  if (!progress.has(id)) return;
  config.voters.incoming.ids.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  // A voter of the outgoing config keeps its progress until the joint config is left.
  if (!config.voters.outgoing.has(id)) progress.delete(id);
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ConfChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/** The invariants every configuration must satisfy; a violation is a bug. */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  for (const id of config.voters.ids()) invariant(progress.has(id), `no progress for voter ${id}`);
  for (const id of config.learners) invariant(progress.has(id), `no progress for learner ${id}`);
  for (const id of config.learnersNext) {
    invariant(progress.has(id), `no progress for learner_next ${id}`);
    invariant(
      config.voters.outgoing.has(id),
      `${id} is in learners_next but not an outgoing voter`,
    );
    invariant(!progress.get(id)!.isLearner, `${id} is in learners_next but already marked learner`);
  }
  for (const id of config.learners) {
    invariant(!config.voters.outgoing.has(id), `${id} is in learners and outgoing voters`);
    invariant(!config.voters.incoming.has(id), `${id} is in learners and incoming voters`);
    invariant(progress.get(id)!.isLearner, `${id} is in learners but not marked learner`);
  }
  for (const id of progress.keys()) {
    invariant(
      config.voters.has(id) || config.learners.has(id) || config.learnersNext.has(id),
      `progress for ${id} that is neither voter nor learner`,
    );
  }
  if (!config.voters.isJoint()) {
    invariant(config.learnersNext.size === 0, 'learners_next outside a joint config');
    invariant(!config.autoLeave, 'auto-leave outside a joint config');
  }
}

// What a leader knows of one follower's log (thesis §3.5 nextIndex/matchIndex), and the
// flow-control state machine of etcd/raft:
//   Probe:     one append per heartbeat interval until the follower's match is found;
//   Replicate: optimistic pipelining of appends within the inflight window;
//   Snapshot:  a snapshot is in flight; appends wait for it.
import { invariant } from '../errors.js';
import { Inflights } from './inflights.js';

export enum ProgressState {
  Probe = 'Probe',
  Replicate = 'Replicate',
  Snapshot = 'Snapshot',
}

export class Progress {
  /** Highest index known to be in the follower's log. */
  match = 0;
  /** Next index to send. */
  next: number;
  state = ProgressState.Probe;
  /** While in Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In Probe state: an append was already sent this heartbeat interval. */
  msgAppFlowPaused = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, inflights: Inflights, isLearner: boolean) {
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${
      this.pendingSnapshot ? ` pendingSnap=${this.pendingSnapshot}` : ''
    }${this.msgAppFlowPaused ? ' paused' : ''} inflight=${this.inflights.length}`;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // Coming from Snapshot: the follower has at least the snapshot, so probe right after.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Account for an append of `entries` entries ending after `next`: pipeline in
   * Replicate state, pause in Probe state until the follower answers.
   */
  sentEntries(entries: number, bytes: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (entries > 0) {
          this.next += entries;
          this.inflights.add(this.next - 1, bytes);
        }
        this.msgAppFlowPaused = this.inflights.full();
        break;
      case ProgressState.Probe:
        if (entries > 0) this.msgAppFlowPaused = true;
        break;
      default:
        invariant(false, `sending append in unhandled state ${this.state}`);
    }
  }

  /** A commit index can be sent along with an empty append as long as it is news. */
  canBumpCommit(_commit: number): boolean {
    return this.state !== ProgressState.Snapshot && this.next > this.match;
  }

  /** The follower accepted up to n; returns false if that is old news. */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is where it thinks the
   * logs may agree. Returns false if the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Stale if the rejected index is already matched.
      if (rejected <= this.match) return false;
      // Directly decrease next to match + 1; the follower will probe from there.
      this.next = this.match + 1;
      return true;
    }
    // Probe: the rejection must be of the last index we sent.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Appends should not be sent now (probe sent, window full, or snapshot in flight). */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
      case ProgressState.Replicate:
        return this.msgAppFlowPaused;
      case ProgressState.Snapshot:
        return true;
    }
  }
}

// A store's side of a Region merge (TiKV's on_prepare_merge / on_check_merge /
// schedule_merge), after the apply rules of merge_apply.ts:
//
//   prepare   PD's merge step reaches the SOURCE's leader (heartbeat reply, or the
//             `nyx region merge` RPC): it proposes PrepareMerge toward the target PD named.
//   commit    on every store, a fenced source replica whose local TARGET replica leads
//             proposes CommitMerge there, carrying the source's entries (minIndex, commit]
//             from this store's log. Source and target have peers on the same stores, so
//             the target's leader always has a source replica beside it; it proposes once
//             that replica has applied the PrepareMerge, and again after resendMs while
//             the fence stands (a proposal lost to a leader change is simply re-made; a
//             second CommitMerge that commits finds the target's epoch moved and is refused).
//   rollback  a fenced source whose target can never commit — this store's target
//             replica (leader or not) applied an epoch past the recorded one and its range
//             does not take in the source's — proposes RollbackMerge where the source's
//             leader is. A CommitMerge applies only at the recorded epoch, so once the
//             target applied another epoch change first, no replica can ever apply it; and
//             had it been applied before, this store's source replica would be gone.
//             The same holds when this store's target replica was destroyed at the
//             recorded epoch or past it: merged into a third Region itself (fenced, it
//             applied nothing else; had our CommitMerge come first, our source replica
//             here would be gone), or removed (conf_ver moved on). Its tombstone is the
//             proof.
import { RegionError } from '../region/errors.js';
import { Region, RegionEpoch, cloneRegion, epochEqual, rangeCovers } from '../region/meta.js';
import { MergeOutcome } from './merge_apply.js';
import type { MergeState } from '../storage/region_state.js';
import { commitMergeEntries } from './merge_propose.js';
import { ConfChangeRefusedError, RegionPeer } from './peer.js';
import type { RaftStore } from './raft_store.js';
import type { StoreRuntime, TimerHandle } from './runtime.js';

export interface MergeRunnerOptions {
  /** The store's clock and timers (NODE_RUNTIME, or the simulation's). */
  runtime: Pick<StoreRuntime, 'now' | 'setRepeating' | 'clearTimer' | 'defer'>;
  /** A CommitMerge / RollbackMerge proposed and not applied is proposed again after this. */
  resendMs?: number;
  /** The epoch this store's replica of a Region was destroyed at (PeerLoader.tombstoneOf). */
  tombstoneOf?: (regionId: number) => RegionEpoch | undefined;
}

const DEFAULT_RESEND_MS = 2000;

export class MergeRunner {
  private readonly sentAt = new Map<number, number>();
  private readonly resendMs: number;

  constructor(
    private readonly store: RaftStore,
    private readonly log: (obj: object, msg: string) => void,
    private readonly opts: MergeRunnerOptions,
  ) {
    this.resendMs = opts.resendMs ?? DEFAULT_RESEND_MS;
  }

  /** PD asks the leader of `sourceId` (at `epoch`) to merge it into `target`. */
  prepare(sourceId: number, epoch: RegionEpoch, target: Region): void {
    const peer = this.store.peers.get(sourceId);
    if (!peer || !peer.isLeader()) return; // PD re-sends to the leader it learns of
    if (peer.merging()) return; // prepared already: the commit side is under way
    if (this.store.peers.get(target.id)?.merging()) {
      // A fenced target takes no CommitMerge: this fence could only be rolled back.
      this.log({ regionId: sourceId, target: target.id }, 'merge target is merging itself');
      return;
    }
    if (!epochEqual(peer.region.epoch, epoch)) {
      this.log(
        { regionId: sourceId, epoch: peer.region.epoch, stepEpoch: epoch },
        'merge step of another epoch ignored',
      );
      return;
    }
    // A merge wakes both Regions (hibernation.ts): the source proposes now, and the
    // target's group must be ticking to take the CommitMerge that follows.
    this.store.wakeRegion(sourceId, 'admin');
    this.store.wakeRegion(target.id, 'admin');
    try {
      peer.proposePrepareMerge(cloneRegion(target), (r) => this.logOutcome(sourceId, r));
      this.log({ regionId: sourceId, target: target.id }, 'prepare merge proposed');
    } catch (e) {
      if (!(e instanceof ConfChangeRefusedError || e instanceof RegionError)) throw e;
      this.log({ regionId: sourceId, target: target.id, err: e.message }, 'prepare merge refused');
      return;
    }
    this.store.schedule();
  }

  /** Drive every fenced source replica here one step (commit, or rollback). */
  tick(): void {
    const now = this.opts.runtime.now();
    for (const source of this.store.peers.values()) {
      const m = source.merging();
      if (!m || source.isMergedAway()) continue;
      // Mid-merge both groups stay awake: the fenced source never rests (peer.isIdle), and
      // a target here that fell asleep since is woken with its group.
      this.store.wakeRegion(source.regionId, 'admin');
      this.store.wakeRegion(m.target.id, 'admin');
      const target = this.store.peers.get(m.target.id);
      if (target && takenIn(target.region, source.region, m.target.epoch.version)) {
        // This store's target replica got the merge by snapshot, not by applying the
        // CommitMerge: the source's rows are in it already, the source replica is garbage.
        this.store.destroyPeer(source.regionId, `merged into region ${target.regionId} (snapshot)`);
        continue;
      }
      const last = this.sentAt.get(source.regionId);
      if (last !== undefined && now - last < this.resendMs) continue;
      if (!target) {
        // The target's replica here is gone, destroyed at the recorded epoch or past it:
        // merged into a third Region (a fenced source applies nothing but its own merge),
        // or removed. The target can never take this merge (see the top of this file).
        const gone = this.opts.tombstoneOf?.(m.target.id);
        if (source.isLeader() && gone && !epochBefore(gone, m.target.epoch)) {
          this.proposeRollback(source, now);
        }
        continue;
      }
      if (target.isLeader() && epochEqual(target.region.epoch, m.target.epoch)) {
        this.proposeCommit(source, target, now);
      } else if (source.isLeader() && targetCannotCommit(source.region, target.region, m)) {
        this.proposeRollback(source, now);
      }
    }
  }

  private timer: TimerHandle | undefined;

  /** Tick every intervalMs until stop(). */
  start(intervalMs: number): void {
    this.timer = this.opts.runtime.setRepeating(intervalMs, () => this.tick());
  }

  stop(): void {
    if (this.timer) this.opts.runtime.clearTimer(this.timer);
    this.timer = undefined;
  }

  /**
   * A merge command applied on `peer`: a leader reports the new meta to PD at once (a
   * fenced source's epoch, the merged target that replaces the source in PD's map), and
   * a fresh fence is driven on without waiting for the next tick.
   */
  onApplied(peer: RegionPeer, outcome: MergeOutcome, report: (p: RegionPeer) => void): void {
    if (outcome.kind === 'committed') this.sentAt.delete(outcome.source.id);
    if (outcome.kind === 'rolledBack') this.sentAt.delete(outcome.region.id);
    this.log(
      { regionId: peer.regionId, step: outcome.kind, version: outcome.region.epoch.version },
      `region merge ${outcome.kind}`,
    );
    if (peer.isLeader()) report(peer);
    if (outcome.kind === 'prepared') this.opts.runtime.defer(() => this.tick());
  }

  private proposeCommit(source: RegionPeer, target: RegionPeer, now: number): void {
    const m = source.merging()!;
    const entries = commitMergeEntries(m, source.logStorage);
    if (!entries) {
      this.log({ regionId: source.regionId, minIndex: m.minIndex }, 'merge entries compacted here');
      return;
    }
    try {
      target.proposeCommitMerge(cloneRegion(source.region), m.commit, entries, (r) =>
        this.logOutcome(target.regionId, r),
      );
    } catch (e) {
      if (!(e instanceof RegionError)) throw e;
      this.log(
        { regionId: target.regionId, source: source.regionId, err: e.message },
        'commit merge refused',
      );
      return;
    }
    this.sentAt.set(source.regionId, now);
    this.log(
      { regionId: target.regionId, source: source.regionId, entries: entries.length },
      'commit merge proposed',
    );
    this.store.schedule();
  }

  private proposeRollback(source: RegionPeer, now: number): void {
    const m = source.merging()!;
    try {
      source.proposeRollbackMerge(m.commit, (r) => this.logOutcome(source.regionId, r));
    } catch (e) {
      if (!(e instanceof RegionError)) throw e;
      return;
    }
    this.sentAt.set(source.regionId, now);
    this.log({ regionId: source.regionId, target: m.target.id }, 'rollback merge proposed');
    this.store.schedule();
  }

  private logOutcome(regionId: number, r: MergeOutcome | Error): void {
    if (r instanceof Error) this.log({ regionId, err: r.message }, 'merge command not applied');
  }
}

/**
 * Can the target never apply this merge's CommitMerge? True once this store's replica of
 * the target applied an epoch past the recorded one without taking in the source's range.
 * A CommitMerge applies only at the recorded epoch, and every replica applies the target's
 * log in one order: the epoch change came first, so the CommitMerge is refused wherever it
 * lands. Had it applied before that change here, this store's source replica would be
 * merged away, not fenced. Any replica of the target can tell, its leader or not: the
 * source's leader must not wait for both leaders to sit on one store, or a fence whose
 * target moved on stands for ever.
 */
export function targetCannotCommit(source: Region, target: Region, m: MergeState): boolean {
  return epochPast(target.epoch, m.target.epoch) && !rangeCovers(target, source);
}

/** Did a Region move past the recorded epoch (a change the recorded one does not know)? */
function epochPast(e: RegionEpoch, recorded: RegionEpoch): boolean {
  return e.version > recorded.version || e.confVer > recorded.confVer;
}

/** Is an epoch older than the recorded one in some part? */
function epochBefore(e: RegionEpoch, recorded: RegionEpoch): boolean {
  return e.version < recorded.version || e.confVer < recorded.confVer;
}

/** Does `target`, at a version past the recorded one, cover the source's whole range? */
function takenIn(target: Region, source: Region, recordedVersion: number): boolean {
  return target.epoch.version > recordedVersion && rangeCovers(target, source);
}

// A store's side of a Region merge (TiKV's on_prepare_merge / on_check_merge /
// schedule_merge), after the apply rules of merge_apply.ts:
//
//   prepare   PD's merge step reaches the SOURCE's leader (heartbeat reply, or the
//             `nyx region merge` RPC): it proposes PrepareMerge toward the target PD named.
//   commit    on every store, a fenced source replica whose local TARGET replica leads at
//             the recorded epoch proposes CommitMerge there, carrying the source's entries
//             (minIndex, commit] from this store's log. Source and target have peers on the
//             same stores, so the target's leader always has a source replica beside it; it
//             proposes once that replica has applied the PrepareMerge, and again after
//             resendMs while the fence stands (a proposal lost to a leader change is simply
//             re-made; a second CommitMerge that commits finds the target's epoch moved and
//             is refused).
//   rollback  only on proof, from this store's replica of the target, that no CommitMerge
//             of this prepare can ever apply (merge_verdict.ts). The proof may sit on any
//             store, the source's leader may sit on another: the store with the proof
//             proposes RollbackMerge if its source replica leads, and otherwise asks the
//             leader to hand it leadership (a forwarded TransferLeader), then proposes.
//             TiKV's leader instead gathers "want rollback" messages from its followers;
//             moving the leader to the proof needs no message type of its own.
//   cleanup   a source replica here that the target took in by snapshot, not by applying
//             the CommitMerge (the merged record, or the range, says so), is destroyed.
import { RegionError } from '../region/errors.js';
import { Region, RegionEpoch, cloneRegion, epochEqual } from '../region/meta.js';
import type { Tombstone } from '../storage/tombstone.js';
import { MergeOutcome } from './merge_apply.js';
import { commitMergeEntries } from './merge_propose.js';
import { mergeVerdict } from './merge_verdict.js';
import { ConfChangeRefusedError, RegionPeer } from './peer.js';
import type { RaftStore } from './raft_store.js';
import type { StoreRuntime, TimerHandle } from './runtime.js';

export interface MergeRunnerOptions {
  /** The store's clock and timers (NODE_RUNTIME, or the simulation's). */
  runtime: Pick<StoreRuntime, 'now' | 'setRepeating' | 'clearTimer' | 'defer'>;
  /** A CommitMerge / RollbackMerge proposed and not applied is proposed again after this. */
  resendMs?: number;
  /** What is kept of this store's destroyed replica of a Region (PeerLoader.tombstoneOf). */
  tombstoneOf?: (regionId: number) => Tombstone | undefined;
}

const DEFAULT_RESEND_MS = 2000;

export class MergeRunner {
  /** When this store last proposed a CommitMerge / RollbackMerge for a fenced source. */
  private readonly sentAt = new Map<number, number>();
  /** When this store last asked to lead a fenced source (to roll it back). */
  private readonly askedAt = new Map<number, number>();
  /** The source's leader as last seen here, and since when (see askToLead). */
  private readonly leaderSeen = new Map<number, { peerId: number; since: number }>();
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

  /** Drive every fenced source replica here one step (commit, rollback, or cleanup). */
  tick(): void {
    const now = this.opts.runtime.now();
    this.prune();
    for (const source of this.store.peers.values()) {
      const m = source.merging();
      if (!m || source.isMergedAway()) continue;
      // Mid-merge both groups stay awake: the fenced source never rests (peer.isIdle), and
      // a target here that fell asleep since is woken with its group.
      this.store.wakeRegion(source.regionId, 'admin');
      this.store.wakeRegion(m.target.id, 'admin');
      const target = this.store.peers.get(m.target.id);
      // A placeholder awaiting its snapshot has no file to read yet (and nothing to say).
      const local = target && {
        region: target.region,
        merged: target.isInitialized() ? target.engine.mergedRecords() : [],
      };
      const verdict = mergeVerdict(
        source.region,
        m,
        this.store.storeId,
        local,
        target ? undefined : this.opts.tombstoneOf?.(m.target.id),
      );
      if (verdict.kind === 'merged') {
        // The source's rows are in the target already: the source replica is garbage.
        this.store.destroyPeer(
          source.regionId,
          `merged into region ${m.target.id} (snapshot)`,
          { appliedEnd: true }, // fenced in order; the target's log took it in
        );
        this.forget(source.regionId);
        continue;
      }
      this.noteLeader(source, now);
      if (this.recent(this.sentAt, source.regionId, now)) continue;
      if (verdict.kind === 'atRecorded' && target!.isLeader()) {
        this.proposeCommit(source, target!, now);
      } else if (verdict.kind === 'cannotCommit') {
        if (source.isLeader()) this.proposeRollback(source, verdict.why, now);
        else this.askToLead(source, verdict.why, now);
      }
    }
  }

  /** Drop what is kept of sources no longer fenced here (lifted, merged, destroyed). */
  private prune(): void {
    for (const id of this.leaderSeen.keys())
      if (!this.store.peers.get(id)?.merging()) this.forget(id);
  }

  private recent(at: Map<number, number>, regionId: number, now: number): boolean {
    const last = at.get(regionId);
    return last !== undefined && now - last < this.resendMs;
  }

  private noteLeader(source: RegionPeer, now: number): void {
    const lead = source.leaderPeer()?.id ?? 0;
    const seen = this.leaderSeen.get(source.regionId);
    if (seen?.peerId !== lead) this.leaderSeen.set(source.regionId, { peerId: lead, since: now });
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
    if (outcome.kind === 'committed') this.forget(outcome.source.id);
    if (outcome.kind === 'rolledBack') this.forget(outcome.region.id);
    this.log(
      { regionId: peer.regionId, step: outcome.kind, version: outcome.region.epoch.version },
      `region merge ${outcome.kind}`,
    );
    if (peer.isLeader()) report(peer);
    if (outcome.kind === 'prepared') this.opts.runtime.defer(() => this.tick());
  }

  private forget(sourceId: number): void {
    this.sentAt.delete(sourceId);
    this.askedAt.delete(sourceId);
    this.leaderSeen.delete(sourceId);
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

  private proposeRollback(source: RegionPeer, why: string, now: number): void {
    const m = source.merging()!;
    try {
      source.proposeRollbackMerge(m.commit, (r) => this.logOutcome(source.regionId, r));
    } catch (e) {
      if (!(e instanceof RegionError)) throw e;
      return;
    }
    this.sentAt.set(source.regionId, now);
    this.log({ regionId: source.regionId, target: m.target.id, why }, 'rollback merge proposed');
    this.store.schedule();
  }

  /**
   * The proof of a rollback is here, the source's leader elsewhere: lead, then propose.
   * Several stores may hold the proof: each asks only when the current leader has led for
   * resendMs already, so a replica that was just handed leadership gets to propose
   * before another one takes it away.
   */
  private askToLead(source: RegionPeer, why: string, now: number): void {
    const seen = this.leaderSeen.get(source.regionId);
    if (!seen || now - seen.since < this.resendMs) return;
    if (this.recent(this.askedAt, source.regionId, now)) return;
    if (!source.askToLead()) return;
    this.askedAt.set(source.regionId, now);
    this.log(
      { regionId: source.regionId, target: source.merging()!.target.id, why },
      'merge cannot commit: asked to lead the source to roll it back',
    );
    this.store.schedule();
  }

  private logOutcome(regionId: number, r: MergeOutcome | Error): void {
    if (r instanceof Error) this.log({ regionId, err: r.message }, 'merge command not applied');
  }
}

// Creating and reloading Region peers: the on-disk state a peer starts from, and the
// repair of what a crash can leave half done — a snapshot installed in the Region engine
// whose log record did not land yet (the engine is ahead of, or disagrees with, the log),
// and a store that crashed while creating the peers of bootstrapped Regions.
import {
  ConfState,
  Snapshot,
  SnapshotTemporarilyUnavailableError,
  emptyConfState,
} from '../raft/index.js';
import {
  PeerRole,
  Region,
  findPeerOnStore,
  isJoint,
  rangeCovers,
  rangesOverlap,
} from '../region/meta.js';
import { RaftLogEngine } from '../storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../storage/raft_log_batch.js';
import { StorageCorruptionError } from '../storage/errors.js';
import type { Tombstone } from '../storage/tombstone.js';
import { RegionEngine } from '../storage/region_engine.js';
import { RegionEnginePool } from '../storage/region_engine_pool.js';
import { describeSnapshot, encodeSnapshotDescriptor } from '../storage/region_snapshot.js';
import { fsyncDir, regionsDir, sqliteBytes } from '../storage/paths.js';
import { NO_OBSERVER, PeerConfig, PeerObserver, PeerOptions, RegionPeer } from './peer.js';
import { NODE_RUNTIME, StoreRuntime } from './runtime.js';
import type { FollowerApplyBatch } from './follower_apply_batch.js';
import type {
  ParentCommitRequest,
  SplitCopier,
  SplitParentCommitter,
} from './split_copy_worker.js';
import { OffLoopSnapshotBuilder } from './snapshot_builder.js';
import { exportSnapshotOffLoop } from './snapshot_worker.js';
import { isInitializedRegion } from './conf_change.js';
import { coveredByTombstone, destroyReplica } from './peer_destroy.js';
import { regionOverlap } from './peer_creation.js';

/**
 * Index and term a newly created Region starts its log at (TiKV's RAFT_INIT_LOG_INDEX):
 * every replica of a bootstrapped Region starts from the same state, as if it had applied
 * a snapshot at this index, so they can elect a leader without any snapshot transfer.
 */
export const INITIAL_LOG_INDEX = 5;
export const INITIAL_LOG_TERM = 5;

/**
 * The Raft configuration that a Region's peer list describes. Inside a joint
 * configuration (incoming / demoting voters) the outgoing voters are the old voters and
 * demoting ones become learners when it is left, which the leader does by itself
 * (autoLeave: conf_change_apply.ts proposes joint changes that way). A peer created from
 * a message and not yet initialized by a snapshot has no configuration at all: it learns
 * it from the snapshot, as in etcd.
 */
export function confStateOf(region: Region): ConfState {
  if (!isInitializedRegion(region)) return emptyConfState();
  const ids = (...roles: PeerRole[]) =>
    region.peers.filter((p) => roles.includes(p.role)).map((p) => p.id);
  const joint = isJoint(region);
  return {
    voters: ids(PeerRole.Voter, PeerRole.IncomingVoter),
    votersOutgoing: joint ? ids(PeerRole.Voter, PeerRole.DemotingVoter) : [],
    learners: ids(PeerRole.Learner),
    learnersNext: ids(PeerRole.DemotingVoter),
    autoLeave: joint,
  };
}

export class PeerLoader {
  /**
   * Runs step 1 of a split (copySplitData) off the store loop: a store sets it to the
   * worker thread (split_copy_worker.ts), the store simulation to a simulated delay.
   * Unset, the copy runs inline in the split's apply.
   */
  splitCopier: SplitCopier | undefined;
  /**
   * Runs step 2 of a split (the parent's cut and new meta) off the loop: a store sets it to
   * the worker thread (split_copy_worker.ts). Unset, step 2 runs on the loop.
   */
  splitParentCommitter: SplitParentCommitter | undefined;
  /**
   * Regions whose files a split copy off the loop is writing now. No peer is created from a
   * message for them (createFromMessage): its connection would meet the copy's writes in
   * the same file, and the split creates the peer with the data a moment later anyway.
   */
  private readonly copyTargets = new Set<number>();
  /**
   * Build snapshots on a worker thread (snapshot_builder.ts); a store sets it. The
   * in-process simulations keep building them on the loop, where a build is one
   * deterministic step.
   */
  buildSnapshotsOffLoop = false;
  /** A snapshot built off the loop failed (the store logs it; Raft asks again). */
  onSnapshotError: (regionId: number, e: Error) => void = () => {};
  /** Regions whose interrupted destroy loadAll() finished (for the store's log). */
  readonly destroyedAtLoad: number[] = [];
  /** The store's peer of a Region, for a CommitMerge that needs its source (a store sets it). */
  peerOf: (regionId: number) => RegionPeer | undefined = () => undefined;
  /** Whether the disk has room to apply this many bytes (a store sets it; disk_usage.ts). */
  roomToApply: ((bytes: number) => boolean) | undefined;
  /** Followers apply in fuller batches (follower_apply_batch.ts; a store sets it). */
  followerApplyBatch: FollowerApplyBatch | undefined;
  /** Whether the disk has room to build a snapshot of this many bytes (disk_usage.ts). */
  roomForSnapshot: ((bytes: number) => boolean) | undefined;

  constructor(
    private readonly storeId: number,
    private readonly logEngine: RaftLogEngine,
    private readonly engines: RegionEnginePool,
    private readonly cfg: PeerConfig,
    private readonly now: () => number,
    private readonly observer: PeerObserver = NO_OBSERVER,
    /** Wall clock and Raft seeds of the peers (the store's runtime). */
    private readonly runtime: Pick<StoreRuntime, 'wallNow' | 'raftSeed'> = NODE_RUNTIME,
  ) {}

  /**
   * Write the initial state of the peers of Regions created by bootstrap; returns the
   * peers. Every engine is written first, then the log, for all of them in one batch (one
   * directory sync, one log write: a store creates thousands at a cluster's first start);
   * reconcile() and createMissingBootstrapPeers complete a crash in between. Running it
   * again after a crash in between is harmless; over a log that has moved past the initial
   * state it refuses, since that would take back votes and entries.
   *
   * A log that holds nothing but a hard state is the vote of a placeholder peer: the
   * Region's other replicas elected a leader before this store created its own peer, and
   * their messages made an uninitialized one here (peer_creation.ts), which a crash then
   * took before its snapshot arrived. Its term and vote are kept (Raft thesis §3.4: a
   * server votes once per term, and that must survive a restart); the initial state only
   * adds the log.
   */
  createInitialPeers(regions: readonly Region[]): RegionPeer[] {
    const made = regions.map((region) => {
      const me = findPeerOnStore(region, this.storeId);
      if (!me) throw new Error(`region ${region.id} has no peer on store ${this.storeId}`);
      return { region, peerId: me.id, vote: this.placeholderVote(region.id) };
    });
    let newFiles = false;
    for (const { region } of made) {
      const fresh = this.engines.get(region.id).createWithState(
        {
          region: { region, tombstone: false },
          apply: { appliedIndex: INITIAL_LOG_INDEX, appliedTerm: INITIAL_LOG_TERM },
        },
        { syncDir: false },
      );
      newFiles ||= fresh;
    }
    if (newFiles) fsyncDir(regionsDir(this.engines.dataDir));
    const batch = new RaftLogWriteBatch();
    for (const { region, vote } of made) {
      batch
        .applySnapshot(region.id, {
          index: INITIAL_LOG_INDEX,
          term: INITIAL_LOG_TERM,
          confState: confStateOf(region),
        })
        .setHardState(region.id, {
          term: vote?.term ?? INITIAL_LOG_TERM,
          vote: vote?.vote ?? 0,
          commit: INITIAL_LOG_INDEX,
        });
    }
    if (made.length > 0) this.logEngine.write(batch);
    // Never started, they may vote at once (PeerOptions.createdNow) — unless the Region's
    // messages made a placeholder here that voted: it may have answered a leader.
    return made.map(({ region, peerId, vote }) =>
      this.open(region, peerId, this.engines.get(region.id), { createdNow: vote === undefined }),
    );
  }

  createInitialPeer(region: Region): RegionPeer {
    return this.createInitialPeers([region])[0]!;
  }

  /** The vote a placeholder peer of the Region left in the log, if that is all it holds. */
  private placeholderVote(regionId: number): { term: number; vote: number } | undefined {
    if (!this.logEngine.has(regionId)) return undefined;
    const view = this.logEngine.region(regionId);
    const hs = view.hardState();
    if (view.lastIndex() === 0 && hs.commit === 0 && hs.term > INITIAL_LOG_TERM)
      return { term: hs.term, vote: hs.vote };
    if (view.lastIndex() > INITIAL_LOG_INDEX || hs.term > INITIAL_LOG_TERM) {
      throw new StorageCorruptionError(
        `region ${regionId}: its raft log is past the initial state (last index ` +
          `${view.lastIndex()}, term ${hs.term}) but its engine has no Region meta; ` +
          `refusing to bootstrap the peer over it`,
      );
    }
    return undefined;
  }

  /**
   * The peers of bootstrapped Regions this store should host but does not: a crash while
   * the store created them (one engine at a time, then its log) leaves some created, one
   * maybe half written, the rest missing. `regions` is PD's list; `hosted` the Regions
   * loaded from disk. A Region qualifies while PD still has it at its initial epoch with
   * a peer here and this store holds no meta for it (a tombstone or any other meta means
   * it was here and is handled by loadAll). Peers added later by membership changes are
   * created by their Region's messages, not here. Returns the peers it created.
   */
  createMissingBootstrapPeers(
    regions: readonly Region[],
    hosted: ReadonlySet<number>,
  ): RegionPeer[] {
    const missing = regions.filter((region) => {
      if (hosted.has(region.id) || !findPeerOnStore(region, this.storeId)) return false;
      if (region.epoch.confVer !== 1 || region.epoch.version !== 1) return false;
      const engine = this.engines.get(region.id);
      return !(engine.exists() && engine.regionState() !== undefined);
    });
    return this.createInitialPeers(missing);
  }

  /** Every peer this store hosted before a restart (tombstones excluded). */
  loadAll(): RegionPeer[] {
    const ids = new Set([...this.engines.regionIdsOnDisk(), ...this.logEngine.regionIds()]);
    const found: {
      engine: RegionEngine;
      region: Region;
      peerId: number;
      merging: boolean;
    }[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      const engine = this.engines.get(id);
      const local = engine.exists() ? engine.regionState() : undefined;
      if (!local || local.tombstone) continue;
      const me = findPeerOnStore(local.region, this.storeId);
      // A destroy a crash interrupted (peer_destroy.ts): the conf change that removed
      // this replica is applied, or the tombstone is written; finish it.
      const tombstone = this.logEngine.tombstone(id);
      if (!me || coveredByTombstone(local.region.epoch, me.id, tombstone)) {
        // Without a peer here, the meta no longer names this replica's id: 0, not known.
        const t = me ? tombstone! : { ...local.region.epoch, peerId: 0, appliedEnd: true };
        destroyReplica(id, t, this.logEngine, this.engines);
        this.destroyedAtLoad.push(id);
        continue;
      }
      found.push({ engine, region: local.region, peerId: me.id, merging: !!local.merging });
    }
    // merge_apply.ts: step 2 committed, step 3 (the source's destroy) did not run.
    const merged = found.filter((f) => this.mergedAway(f, found));
    for (const f of merged) {
      // Fenced in order, then taken in by the target's CommitMerge: its own end, applied.
      const t = { ...f.region.epoch, peerId: f.peerId, appliedEnd: true };
      destroyReplica(f.region.id, t, this.logEngine, this.engines);
      this.destroyedAtLoad.push(f.region.id);
    }
    // raft_store.ts installSnapshot: a snapshot went in, the stale Regions it covers were
    // not destroyed yet. Destroyed from outside, as they would have been.
    const kept = found.filter((f) => !merged.includes(f)); // the merged ones are gone
    const covered = kept.filter((f) => this.coveredBySnapshot(f, kept));
    for (const f of covered) {
      const t = { ...f.region.epoch, peerId: f.peerId, appliedEnd: false };
      destroyReplica(f.region.id, t, this.logEngine, this.engines);
      this.destroyedAtLoad.push(f.region.id);
    }
    const live = kept.filter((f) => !covered.includes(f));
    const peers: RegionPeer[] = [];
    for (const f of live) {
      if (this.unfinishedSplitChild(f, live)) continue;
      this.reconcile(f.engine, f.region);
      peers.push(this.open(f.region, f.peerId, f.engine));
    }
    return peers;
  }

  /**
   * A fenced merge source whose range a Region of a higher version covers: the target's
   * CommitMerge is applied here (its rows moved), the source's destroy did not happen.
   * Only a target's commit makes a higher version over a fenced source's range: the fence
   * stops every split of the source, and a split child under it would be a lower version.
   */
  private mergedAway(
    f: { region: Region; merging: boolean },
    all: readonly { region: Region }[],
  ): boolean {
    if (!f.merging) return false;
    return all.some(
      (o) =>
        o.region.id !== f.region.id &&
        o.region.epoch.version > f.region.epoch.version &&
        rangesOverlap(o.region, f.region),
    );
  }

  /**
   * A Region another one hosted here covers as a stale Region under a snapshot
   * (peer_creation.ts regionOverlap: a higher version over its whole range, with the
   * record of its merge, and no replica here still to take it in).
   */
  private coveredBySnapshot(
    f: { region: Region },
    all: readonly { engine: RegionEngine; region: Region }[],
  ): boolean {
    const recordsOf = (id: number) => all.find((o) => o.region.id === id)?.engine.mergedRecords();
    // Range and version first: the merged records are read from the file, and only a
    // Region that covers another (after a crash, never in steady state) needs them.
    return all.some(
      (o) =>
        o.region.id !== f.region.id &&
        o.region.epoch.version > f.region.epoch.version &&
        rangeCovers(o.region, f.region) &&
        regionOverlap(o.region, o.engine.mergedRecords(), [f.region], recordsOf).stale.length > 0,
    );
  }

  /**
   * A new Region of a split whose parent had not committed its half when the store
   * stopped (split_apply.ts, between steps 1 and 2): its file is at the initial state and
   * a Region of a lower version still covers its range. Loading it would let two peers
   * serve one key; the parent replays the split and creates it again. A Region past its
   * initial state under an older one cannot come from a crash of this process (the new
   * peer exists only after the parent's commit): refuse to guess.
   */
  private unfinishedSplitChild(
    f: { engine: RegionEngine; region: Region },
    all: readonly { region: Region }[],
  ): boolean {
    const older = all.find(
      (o) =>
        o.region.id !== f.region.id &&
        o.region.epoch.version < f.region.epoch.version &&
        rangesOverlap(o.region, f.region),
    );
    if (!older) return false;
    if (f.engine.applyState().appliedIndex !== INITIAL_LOG_INDEX) {
      throw new StorageCorruptionError(
        `region ${f.region.id} (version ${f.region.epoch.version}) has applied entries, but ` +
          `region ${older.region.id} (version ${older.region.epoch.version}) still covers its range`,
      );
    }
    return true;
  }

  /**
   * The peer of a Region a split just created here: its engine holds the initial state
   * (split_apply.ts); its Raft log starts at the same initial index and term as a
   * bootstrapped Region's, unless this store already had a log for it.
   */
  createSplitPeer(region: Region): RegionPeer {
    const me = findPeerOnStore(region, this.storeId);
    if (!me) throw new Error(`region ${region.id} has no peer on store ${this.storeId}`);
    const engine = this.engines.get(region.id);
    // The copy may have run on a worker thread into a file this process already had open
    // (a placeholder peer created from the new Region's messages): read what is on disk.
    engine.reloadState();
    const local = engine.regionState();
    if (!local || local.region.id !== region.id)
      throw new Error(`region ${region.id}: split created no meta in its engine`);
    this.reconcile(engine, local.region);
    return this.open(local.region, me.id, engine, { createdNow: true });
  }

  /**
   * An uninitialized peer created from a Raft message (peer_creation.ts), or undefined
   * when a split this store's parent peer is applying creates the Region: while its copy
   * runs on a worker thread (copyTargets), or once the file holds applied state though
   * this store does not host the Region (the copy finished, or began when the process
   * crashed, split_apply.ts). The split creates the peer with that data; a placeholder
   * over the file would start from its applied index with an empty log, which Raft
   * refuses, and one opened during the copy shares the file with the worker's writes.
   * A copy that starts after the placeholder finds it idle, and the split replaces it
   * (createSplitPeer). No meta is written (a restart forgets the placeholder; the
   * leader's next message creates it again), and its Raft state is whatever this store's
   * log holds for the Region (a vote it cast before a restart stays cast).
   */
  createFromMessage(placeholder: Region): RegionPeer | undefined {
    const me = findPeerOnStore(placeholder, this.storeId);
    if (!me) throw new Error(`region ${placeholder.id} has no peer on store ${this.storeId}`);
    if (this.copyTargets.has(placeholder.id)) return undefined;
    const engine = this.engines.get(placeholder.id);
    if (engine.exists()) {
      engine.reloadState();
      if (engine.applyState().appliedIndex > 0) return undefined;
    }
    return this.open(placeholder, me.id, engine);
  }

  /** Step 1 of a split on splitCopier, with its new Regions marked as being written. */
  private async copyOffLoop(parentId: number, created: Region[]): Promise<number[]> {
    for (const r of created) this.copyTargets.add(r.id);
    try {
      return await this.engines.whileShared([parentId, ...created.map((r) => r.id)], () =>
        this.splitCopier!({ dataDir: this.engines.dataDir, parentId, created }),
      );
    } finally {
      for (const r of created) this.copyTargets.delete(r.id);
    }
  }

  /** What is kept of this store's replica of a Region, if it was destroyed (tombstone.ts). */
  tombstoneOf(regionId: number): Tombstone | undefined {
    return this.logEngine.tombstone(regionId);
  }

  /** Destroy this store's replica of a Region (peer_destroy.ts). */
  destroy(regionId: number, tombstone: Tombstone): void {
    destroyReplica(regionId, tombstone, this.logEngine, this.engines);
  }

  /**
   * A received snapshot is installed in the engine before its record is written to the
   * log (never the other way round), so after a crash in between the engine may be ahead
   * of the log, or — when the log was longer than the snapshot and divergent from it —
   * hold a different entry at its apply index than the log does. Either way the log
   * does not describe what was applied; finish the install: the log becomes the
   * snapshot's record, as Raft's restore would have made it (thesis §5.1, etcd's
   * raftLog.restore: a snapshot whose last entry the log lacks replaces the whole log).
   * An entry the log holds at the apply index with the applied term is the applied one
   * (Log Matching), and the log is then kept whole.
   */
  private reconcile(engine: RegionEngine, region: Region): void {
    const apply = engine.applyState();
    const view = this.logEngine.has(region.id) ? this.logEngine.region(region.id) : undefined;
    const hs = view?.initialState().hardState;
    if (view && view.lastIndex() >= apply.appliedIndex) {
      const truncated = view.truncatedState();
      if (apply.appliedIndex < truncated.index) {
        // The log is compacted only below an apply index the engine made durable.
        throw new StorageCorruptionError(
          `region ${region.id}: engine applied ${apply.appliedIndex}, but the raft log is ` +
            `compacted up to ${truncated.index}: the entries between are lost`,
        );
      }
      if (view.term(apply.appliedIndex) === apply.appliedTerm) {
        // The commit index is written lazily (raft_store.ts): what was applied was
        // committed, so raise a stale one to the apply index.
        if (hs && hs.commit < apply.appliedIndex) {
          this.logEngine.write(
            new RaftLogWriteBatch().setHardState(region.id, {
              ...hs,
              commit: apply.appliedIndex,
            }),
          );
        }
        return;
      }
    }
    this.logEngine.write(
      new RaftLogWriteBatch()
        .applySnapshot(region.id, {
          index: apply.appliedIndex,
          term: apply.appliedTerm,
          confState: confStateOf(region),
        })
        .setHardState(region.id, {
          term: Math.max(hs?.term ?? 0, apply.appliedTerm),
          vote: hs && hs.term >= apply.appliedTerm ? hs.vote : 0,
          commit: apply.appliedIndex,
        }),
    );
  }

  private open(
    region: Region,
    peerId: number,
    engine: RegionEngine,
    opts: PeerOptions = {},
  ): RegionPeer {
    const view = this.logEngine.region(region.id);
    let peer: RegionPeer | undefined = undefined;
    // Raft's configuration comes from the Region meta, which the engine keeps current.
    view.confStateProvider = () => confStateOf(peer ? peer.region : region);
    if (this.buildSnapshotsOffLoop) {
      const builder = new OffLoopSnapshotBuilder({
        exportOffLoop: () =>
          this.engines.whileShared([region.id], () =>
            exportSnapshotOffLoop({ dataDir: this.engines.dataDir, regionId: region.id }),
          ),
        truncatedIndex: () => view.truncatedState().index,
        confStateOf,
        onError: (e) => this.onSnapshotError(region.id, e),
        roomToBuild: () => !this.roomForSnapshot || this.roomForSnapshot(sqliteBytes(engine.path)),
      });
      view.setSnapshotBuilder(() => builder.take());
    } else {
      view.setSnapshotBuilder(() => buildSnapshot(engine, peer ? peer.region : region));
    }
    const rt = this.runtime;
    peer = new RegionPeer(
      region,
      peerId,
      view,
      engine,
      this.cfg,
      this.now,
      this.observer,
      () => rt.wallNow(),
      rt.raftSeed(peerId),
      {
        ...opts,
        split: { engineOf: (id) => this.engines.get(id) },
        mergeSourceOf: (id) => this.peerOf(id)?.asMergeSource(),
        ...(this.roomToApply ? { roomToApply: this.roomToApply } : {}),
        ...(this.followerApplyBatch ? { followerApplyBatch: this.followerApplyBatch } : {}),
        ...(this.splitCopier
          ? {
              copySplitOffLoop: (parentId: number, created: Region[]) =>
                this.copyOffLoop(parentId, created),
            }
          : {}),
        ...(this.splitParentCommitter
          ? {
              commitSplitParentOffLoop: (req: Omit<ParentCommitRequest, 'dataDir'>) =>
                this.engines.whileShared([req.split.parent.id], () =>
                  this.splitParentCommitter!({ dataDir: this.engines.dataDir, ...req }),
                ),
            }
          : {}),
      },
    );
    return peer;
  }
}

/**
 * A snapshot of the Region as applied now: the engine is copied to a file under snap/
 * and the Raft snapshot's data names that file (see snap_transfer.ts).
 */
function buildSnapshot(engine: RegionEngine, region: Region): Snapshot {
  let info;
  try {
    info = engine.exportSnapshot();
  } catch {
    throw new SnapshotTemporarilyUnavailableError();
  }
  return {
    data: encodeSnapshotDescriptor(describeSnapshot(info)),
    metadata: {
      index: info.applyState.appliedIndex,
      term: info.applyState.appliedTerm,
      confState: confStateOf(region),
    },
  };
}

// The Multi-Raft loop of a store, after TiKV's raftstore: one event loop drives every Region
// peer. Each turn gathers the Ready of every peer with work, then
//   1. sends the messages that may leave at once (a leader's appends go out while it writes);
//   2. writes every peer's entries and hard state in ONE log transaction — one fsync for all
//      Regions (group commit);
//   3. sends the acknowledgements that promise durable state;
//   4. applies committed entries to each Region's engine, answers clients, and advances.
// Work arriving between turns (messages, proposals, reads) only marks peers dirty and
// schedules a turn, so a busy store batches naturally.
import { failpoint } from '../common/failpoint.js';
import { trace, tracing } from '../common/trace.js';
import {
  HardState,
  Message,
  MessageType,
  Ready,
  SnapshotStatus,
  invariant,
  payloadsSize,
} from '../raft/index.js';
import { Peer, Region, RegionEpoch } from '../region/meta.js';
import { RaftLogEngine } from '../storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../storage/raft_log_batch.js';
import { isOutOfSpace } from '../storage/sqlite.js';
import type { MergedRecord } from '../storage/region_state.js';
import { Channel, Refusal, checkForStore } from './message_validator.js';
import { regionOverlap, snapshotOverlap } from './peer_creation.js';
import { RegionPeer } from './peer.js';
import { DirtyPeers } from './store_dirty_set.js';
import { LogSyncQueue } from './log_sync_queue.js';
import { HeldCommits } from './held_commits.js';
import { RegionError } from '../region/errors.js';
import { SplitResult } from './split_apply.js';
import type { MergeOutcome } from './merge_apply.js';
import { NODE_RUNTIME, StoreRuntime, TimerHandle } from './runtime.js';
import { Hibernation, HibernationOptions, WakeReason } from './hibernation.js';
import { RegionFlow } from './region_flow.js';

/** A Raft message with the routing header a store needs to deliver it. */
export interface RaftEnvelope {
  regionId: number;
  fromPeer: Peer;
  toPeer: Peer;
  epoch: RegionEpoch;
  message: Message;
  /** A hibernation signal (hibernation.ts): handled by the store, never stepped into Raft. */
  hibernate?: 'request' | 'ack' | 'wake';
}

/** The outbound side of the store-to-store transport. */
export interface RaftTransport {
  /** Queue a message; messages are sent batched per store on flush(). */
  send(env: RaftEnvelope): void;
  flush(): void;
  /** Tell these stores that this one is alive (hibernation.ts); sent at once. */
  sendStoreHeartbeat?(storeIds: number[]): void;
  /** Have links to these stores ready before a burst of messages (transport.ts). */
  connect?(storeIds: readonly number[]): Promise<void>;
}

export interface RaftStoreHooks {
  /** A split applied on `peer`: create the new Regions' peers here (split_runner.ts). */
  onSplitApplied?(peer: RegionPeer, result: SplitResult): void;
  /** Install a received snapshot's data into the peer's Region engine (before the log write). */
  applySnapshotData(peer: RegionPeer, rd: Ready): void;
  /** The loop hit an error it cannot continue after; the store must stop. */
  onFatal(err: Error): void;
  /** A turn finished; for metrics. */
  onTurn?(stats: TurnStats): void;
  /**
   * A conf change (or a snapshot of another membership) applied on `peer`, which is still
   * a member: a leader reports to PD at once.
   */
  onConfChangeApplied?(peer: RegionPeer): void;
  /** A message for a Region not hosted here: a new peer, if it may create one (peer_creation.ts). */
  maybeCreatePeer?(env: RaftEnvelope): RegionPeer | undefined;
  /** Delete a removed replica's data and tombstone it (peer_destroy.ts, tombstone.ts). */
  destroyPeerData?(peer: RegionPeer, appliedEnd: boolean): void;
  /** A merge command applied on `peer` (merge_apply.ts): report, or drive the next step. */
  onMergeApplied?(peer: RegionPeer, outcome: MergeOutcome): void;
  /** A message for an uninitialized peer from a sender it does not know (a new leader). */
  maybeLearnSender?(peer: RegionPeer, env: RaftEnvelope): void;
  /** Whether Raft may write about this many bytes of data now (disk_usage.ts). */
  roomForRaftWrite?(bytes: number): boolean;
  /** The log write failed for want of space: make what room there is (the placeholder). */
  logWriteFailedForSpace?(): void;
  /** A sync of the log finished, after `ms` (metrics). */
  onLogSync?(ms: number): void;
}

export interface TurnStats {
  peers: number;
  entries: number;
  committed: number;
  /** Whether the turn wrote the log (its fsync follows off the loop: onLogSync). */
  synced: boolean;
  /** Whether some peer's role or leader changed (Ready.softState): leadership news for PD. */
  softStateChanged: boolean;
  writeMs: number;
  applyMs: number;
}

/** Messages only a leader sends its followers: a peer that gets them is not stale. */
const LEADER_TO_FOLLOWER = new Set<MessageType>([
  MessageType.App,
  MessageType.Heartbeat,
  MessageType.Snap,
  MessageType.TimeoutNow,
]);

/** Votes kept for Regions a split has not created here yet. */
const MAX_STASHED_VOTES = 256;

/** How long a log write that failed for want of space waits before it is tried again. */
const LOG_WRITE_SPACE_RETRY_MS = 200;

export class RaftStore {
  readonly peers = new Map<number, RegionPeer>();
  /** The peers with work: a turn visits these, not every peer. */
  private readonly dirtyPeers = new DirtyPeers();
  private scheduled = false;
  private ticker: TimerHandle | undefined;
  private ticks = 0;
  private readonly tickListeners = new Set<() => void>();
  private stopped = false;
  /** A turn's messages are out and its log write is due: no other turn may start. */
  private writing = false;
  /** Readies whose log write is committed but not yet synced (log_sync_queue.ts). */
  private readonly unsynced = new LogSyncQueue<[RegionPeer, Ready]>();
  /** Log writes of the pending turn that failed for want of space (0: none). */
  private spaceFailures = 0;
  /** Hard states whose only change is the commit index, not yet written. */
  private readonly lazyHardStates = new Map<number, HardState>();
  /** Votes for Regions not hosted yet (see stashVote), oldest first. */
  private readonly stashedVotes = new Map<number, RaftEnvelope>();
  /** Peers to destroy once the turn whose log write is under way is done. */
  private readonly destroyAfterTurn = new Map<number, { why: string; appliedEnd: boolean }>();
  /** Idle Regions stop ticking, when enabled (hibernation.ts). */
  hibernation: Hibernation | undefined;
  /** Commit-only appends held for the next append or tick (held_commits.ts). */
  private readonly heldCommits = new HeldCommits();
  /** The load each Region serves here: for PD's hot Regions and load splits (region_flow.ts). */
  readonly flow = new RegionFlow(() => this.runtime.now());

  constructor(
    readonly storeId: number,
    private readonly logEngine: RaftLogEngine,
    private readonly transport: RaftTransport,
    private readonly hooks: RaftStoreHooks,
    private readonly tickMs: number,
    private readonly log: (obj: object, msg: string) => void,
    /** Clocks and timers (the simulator supplies virtual ones). */
    readonly runtime: StoreRuntime = NODE_RUNTIME,
  ) {}

  /** Let idle Regions sleep (before start()). */
  enableHibernation(opts: HibernationOptions): Hibernation {
    this.hibernation = new Hibernation(
      this.storeId,
      this.peers,
      this.transport,
      opts,
      this.runtime,
      (regionId) => this.heldCommits.has(regionId),
    );
    return this.hibernation;
  }

  /** Wake this store's peer of the Region and, if it slept, its group (a merge step). */
  wakeRegion(regionId: number, reason: WakeReason): void {
    const p = this.peers.get(regionId);
    if (p && this.hibernation) this.hibernation.wakeGroup(p, reason);
  }

  /** Something arrived from another store: it is alive (peer_store_liveness.ts). */
  heardFromStore(storeId: number): void {
    this.hibernation?.liveness.heard(storeId);
  }

  start(): void {
    this.hibernation?.start();
    // A tick steps Raft like a message does: an exception there is a bug, so fail-stop.
    this.ticker = this.runtime.setRepeating(this.tickMs, () => this.guarded(() => this.onTick()));
  }

  stop(err: Error): void {
    this.stopped = true;
    if (this.ticker) this.runtime.clearTimer(this.ticker);
    this.hibernation?.stop();
    for (const p of this.peers.values()) p.close(err);
  }

  addPeer(peer: RegionPeer, replayVote = true): void {
    this.peers.set(peer.regionId, peer);
    peer.onWake = (p, reason) => this.hibernation?.wake(p, reason);
    this.dirtyPeers.track(peer);
    // A split's copy finished off the loop (peer.ts): its new peers, then a turn.
    peer.onAsyncApplied = (err) =>
      this.guarded(() => {
        if (err) throw err;
        if (this.stopped) return;
        for (const split of peer.takeAppliedSplits()) this.hooks.onSplitApplied?.(peer, split);
        peer.dirty = true;
        this.schedule();
      });
    this.schedule();
    const vote = replayVote ? this.stashedVotes.get(peer.regionId) : undefined;
    if (vote) {
      this.stashedVotes.delete(peer.regionId);
      // Through the validator like any message: it is checked against the new peer now.
      this.runtime.defer(() => void this.onRaftMessage(vote));
    }
  }

  /**
   * A (pre-)vote for a Region not hosted here may come from the new leader of a split
   * this store has not applied yet: keep the latest one per Region, and step it when the
   * split creates the peer (TiKV's pending_msgs), so the new Region elects its leader in
   * one round instead of after an election timeout. Bounded; stale ones are checked like
   * any message when replayed, and Raft ignores votes of an old term.
   */
  private stashVote(env: RaftEnvelope): void {
    const t = env.message.type;
    if (t !== MessageType.Vote && t !== MessageType.PreVote) return;
    this.stashedVotes.delete(env.regionId);
    this.stashedVotes.set(env.regionId, env);
    while (this.stashedVotes.size > MAX_STASHED_VOTES) {
      this.stashedVotes.delete(this.stashedVotes.keys().next().value!);
    }
  }

  /** Something happened to a peer: give it a turn soon. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.runtime.defer(() => {
      this.scheduled = false;
      this.guarded(() => this.turn());
    });
  }

  /**
   * A failed log write or apply (an I/O error, a broken invariant) leaves Readies half
   * done; going on could acknowledge what is not durable. Stop the loop and let the
   * process fail; nothing acknowledged depends on what was lost. (A disk without room
   * does not get here: appends and applies wait for it, and a log write failing with
   * SQLITE_FULL is written again; see noRoomFor, writeLog, and peer.ts.)
   */
  private guarded(f: () => void): void {
    try {
      f();
    } catch (e) {
      // What still runs after a stop (a timer, a worker's answer) may find its engines
      // closed: the store already stopped, for its own reason.
      if (this.stopped) return;
      this.stop(new Error(`store stopped: ${(e as Error).message}`));
      this.hooks.onFatal(e as Error);
    }
  }

  /**
   * A message from another store, arriving on `channel`. It reaches Raft only if the
   * validator (message_validator.ts) accepts it: sender a member of the Region, on the
   * store hosting it, well-formed content. Returns why it was dropped, if it was; a
   * dropped message is never an error of the store (Raft retransmits what matters).
   */
  onRaftMessage(env: RaftEnvelope, channel: Channel = 'messages'): Refusal | undefined {
    if (this.stopped) return undefined;
    if (env.hibernate && !this.peers.has(env.regionId)) {
      // A signal never creates a peer: it is about a group this store is not part of (yet).
      return { reason: 'unknown-region', detail: `hibernation signal for region ${env.regionId}` };
    }
    if (!this.peers.has(env.regionId)) {
      // Kept even when a peer is created: a split applied here later replaces that
      // placeholder and replays the vote to its own peer (dropPlaceholder).
      this.stashVote(env);
      const created = this.hooks.maybeCreatePeer?.(env);
      if (created) {
        this.log(
          { regionId: env.regionId, peer: created.peerId, from: env.fromPeer.id },
          'peer created from a message',
        );
        this.addPeer(created, false);
      }
    } else {
      this.hooks.maybeLearnSender?.(this.peers.get(env.regionId)!, env);
    }
    const refusal = checkForStore(this, env, channel) ?? this.noRoomFor(env);
    if (refusal) return refusal;
    const peer = this.peers.get(env.regionId)!;
    if (this.hibernation) {
      if (env.hibernate) {
        this.guarded(() => this.hibernation!.onSignal(peer, env));
        return undefined;
      }
      this.hibernation.onMessage(peer, env);
    }
    if (LEADER_TO_FOLLOWER.has(env.message.type)) peer.leaderSilentTicks = 0;
    // The message passed validation, so an exception from Raft is a bug or a broken
    // invariant, and Raft's state may be half changed: fail-stop, never go on from it.
    this.guarded(() => peer.node.step(env.message));
    if (this.stopped) return undefined;
    peer.liveness.heard(env.fromPeer.id, this.runtime.now());
    peer.dirty = true;
    this.schedule();
    if (env.message.type === MessageType.Snap) {
      // Raft may still pass over a valid snapshot (it already has the entry, or it is no
      // longer a follower). Only the snapshot it holds as pending will be installed; tell
      // the caller otherwise, so that the received file is removed rather than kept. The
      // data names the received file, so it tells this snapshot from another at the same
      // index (a resend) that Raft may be holding instead.
      const pending = peer.node.raft.raftLog.unstable.snapshot;
      if (!pending || !Buffer.from(pending.data).equals(Buffer.from(env.message.snapshot!.data)))
        return { reason: 'snapshot-not-needed', detail: 'raft did not take the snapshot' };
    }
    return undefined;
  }

  /**
   * Entries the disk has no room for are not taken: the append is dropped (TiKV drops
   * appends to a store whose disk is already full) and the leader sends it again later
   * (Raft retransmits). The follower lags instead of failing its log write or its apply
   * with SQLITE_FULL, and catches up once space returns.
   */
  private noRoomFor(env: RaftEnvelope): Refusal | undefined {
    const m = env.message;
    if (m.type !== MessageType.App || m.entries.length === 0 || !this.hooks.roomForRaftWrite)
      return undefined;
    const bytes = payloadsSize(m.entries);
    if (this.hooks.roomForRaftWrite(bytes)) return undefined;
    return {
      reason: 'disk-full',
      detail: `no room on this store's disk for ${m.entries.length} entries (${bytes} bytes)`,
    };
  }

  /**
   * A snapshot whose file arrived on its stream (`file`, in this store's snap dir). Its
   * Region must not overlap another Region hosted here (peer_creation.ts): two peers of one
   * store would serve one key. A peer created from a message gets its range from the
   * snapshot; a lagging peer's snapshot may bring a wider range than it has (merges it
   * missed, the log they were in compacted away), over sources still hosted here. Those
   * stale sources stay until the snapshot is installed, and go with it (installSnapshot):
   * destroyed now and the snapshot then passed over by Raft, a lagging target replica here
   * could take the merge from its log after all and find its source gone.
   */
  onSnapshotMessage(env: RaftEnvelope, file: string): Refusal | undefined {
    if (this.peers.has(env.regionId)) {
      const overlap = snapshotOverlap(file, env.regionId, this.regions(), this.hostedMerged);
      if (overlap.refuse) return { reason: 'bad-snapshot', detail: overlap.refuse };
      // A stale Region whose split is being copied off the loop cannot be destroyed under
      // the copy (its parent file would go from under step 2): the leader sends again.
      const splitting = overlap.stale.find((r) => this.peers.get(r.id)?.applyingSplit);
      if (splitting)
        return {
          reason: 'bad-snapshot',
          detail: `overlaps region ${splitting.id}, stale but still applying a split here`,
        };
    }
    return this.onRaftMessage(env, 'snapshot');
  }

  /** The merged records of a hosted Region (none before its first snapshot). */
  private readonly hostedMerged = (regionId: number): readonly MergedRecord[] | undefined => {
    const p = this.peers.get(regionId);
    if (!p) return undefined;
    return p.isInitialized() ? p.engine.mergedRecords() : [];
  };

  /**
   * Install a snapshot Raft took and destroy, in the same step of the loop, the stale
   * Regions its Region covers (TiKV destroys the overlapped Regions as it applies the
   * snapshot). The data goes in first: a crash before the destroys leaves both, and a
   * restart destroys the covered ones (peer_loader.ts); the reverse order could leave the
   * sources gone and the snapshot not in, for a target replica whose log then brings the
   * merge that needs them. The overlap was checked when the file arrived (onSnapshotMessage);
   * anything else overlapping now is a broken invariant: two peers would serve one key.
   */
  private installSnapshot(p: RegionPeer, rd: Ready): void {
    this.hooks.applySnapshotData(p, rd);
    const installed = p.engine.regionState();
    invariant(installed !== undefined, () => `region ${p.regionId}: snapshot without a meta`);
    const overlap = regionOverlap(
      installed.region,
      p.engine.mergedRecords(),
      this.regions(), // its own entry is passed over by id
      this.hostedMerged,
    );
    invariant(
      overlap.refuse === undefined,
      () => `region ${p.regionId}'s installed snapshot ${overlap.refuse}`,
    );
    for (const s of overlap.stale) {
      this.destroyPeer(s.id, `stale: covered by region ${p.regionId}'s snapshot`, {
        appliedEnd: false,
      });
    }
  }

  /** The transport could not deliver to a peer: Raft probes it again instead of pipelining. */
  reportUnreachable(regionId: number, toPeerId: number): void {
    const peer = this.peers.get(regionId);
    if (!peer) return;
    this.guarded(() => peer.node.reportUnreachable(toPeerId));
    peer.dirty = true;
    this.schedule();
  }

  reportSnapshot(regionId: number, toPeerId: number, status: SnapshotStatus): void {
    const peer = this.peers.get(regionId);
    if (!peer) return;
    this.guarded(() => peer.node.reportSnapshot(toPeerId, status));
    peer.dirty = true;
    this.schedule();
  }

  private onTick(): void {
    this.ticks++;
    const expire = this.ticks % 10 === 0;
    const hib = this.hibernation;
    for (const p of this.peers.values()) {
      // A sleeping peer has no requests to expire (any request wakes it).
      if (p.asleep) continue;
      if (p.hasHeldEntries) this.retryHeldApply(p);
      p.tick();
      hib?.afterTick(p);
      if (expire) p.expireRequests();
    }
    const held = this.heldCommits.takeAll();
    for (const env of held) if (this.peers.has(env.regionId)) this.transport.send(env);
    if (held.length > 0) this.transport.flush();
    hib?.checkPeerStores();
    for (const f of this.tickListeners) f();
    this.schedule();
  }

  /**
   * Committed entries the peer held back, for want of disk space or in a follower's batch
   * (peer.ts): apply what fits now. Outside a turn, as a split's held entries are
   * (addPeer's onAsyncApplied).
   */
  private retryHeldApply(p: RegionPeer): void {
    this.guarded(() => {
      if (!p.applyHeld()) return;
      for (const split of p.takeAppliedSplits()) this.hooks.onSplitApplied?.(p, split);
      p.dirty = true;
    });
  }

  /** Call `f` at the end of every tick, until the returned function is called. */
  everyTick(f: () => void): () => void {
    this.tickListeners.add(f);
    return () => this.tickListeners.delete(f);
  }

  /** One loop turn over every peer with work. */
  turn(): void {
    // While the log syncs, what arrives is stepped into Raft and waits: the turn after
    // the sync takes it all in one Ready per peer and one log write (group commit), as
    // a turn after a blocking fsync did, but the loop stayed free to receive meanwhile
    // and the last turn's applies and answers did not wait for the sync.
    if (this.stopped || this.writing || this.unsynced.syncRunning) return;
    const ready: [RegionPeer, Ready][] = [];
    for (const p of this.dirtyPeers.take()) {
      if (this.peers.get(p.regionId) !== p) continue; // no longer hosted here
      p.dirty = false;
      p.flushWrites();
      p.flushReads();
      if (p.node.hasReady()) ready.push([p, p.node.ready()]);
    }
    if (ready.length === 0) return;
    if (tracing) traceTurn('ready', ready);

    let sent = 0;
    for (const [p, rd] of ready) sent += this.sendAll(p, rd.messages);
    this.transport.flush();
    if (sent > 0 && ready.some(([, rd]) => rd.mustSync)) {
      // Let those messages reach the socket before the log write and the applies take
      // the loop: the followers then write in parallel with us (thesis §10.2.1). Until
      // the write is done no other turn starts, so Readies finish in order.
      this.writing = true;
      this.runtime.defer(() => {
        this.writing = false;
        this.guarded(() => this.finishTurn(ready));
      });
      return;
    }
    this.finishTurn(ready);
  }

  /**
   * The rest of a turn: one log write for all, apply, and the acks once the write is
   * durable. The write is pipelined (rawnode.ts): it commits without an fsync, the WAL is
   * synced off the loop (syncLog), and the turn applies what earlier writes made durable
   * without waiting; its acks and advanceAppend follow when the sync returns, and the
   * next turn after that. A turn with a snapshot writes durably on the loop as before:
   * installing it is not pipelined. `retry`: the log write failed for want of space and
   * is tried again (snapshots' data is in already).
   */
  private finishTurn(ready: [RegionPeer, Ready][], retry = false): void {
    if (this.stopped) return;
    // A snapshot's data lands in the Region engine before the log records it, so a crash
    // in between leaves an engine ahead of its log — which restart reconciles — and never
    // a log that claims data the engine does not have. The stale Regions it covers go now,
    // before their own Readies could write to the logs their destroy deletes.
    if (!retry) {
      for (const [p, rd] of ready)
        if (rd.snapshot && this.peers.get(p.regionId) === p) this.installSnapshot(p, rd);
    }
    // A peer replaced while this turn's write was pending (a placeholder a split took
    // over, split_runner.ts) must not write its Ready over its successor's log.
    ready = ready.filter(([p]) => this.peers.get(p.regionId) === p);
    const t0 = this.runtime.now();
    const batch = new RaftLogWriteBatch();
    let entries = 0;
    let mustSync = false;
    let snapshot = false;
    for (const [p, rd] of ready) {
      if (rd.snapshot) snapshot = true;
      if (rd.mustSync) {
        mustSync = true;
        batch.addReady(p.regionId, rd);
        this.lazyHardStates.delete(p.regionId);
      } else if (rd.hardState) {
        // Only the commit index moved: it need not be durable now (a restart recomputes
        // it, and never below what was applied). It rides along with the next write.
        this.lazyHardStates.set(p.regionId, rd.hardState);
      }
      entries += rd.entries.length;
    }
    if (mustSync) {
      for (const [regionId, hs] of this.lazyHardStates) {
        if (this.peers.has(regionId)) batch.setHardState(regionId, hs);
      }
      failpoint('raft_log_before_write');
      if (tracing) traceTurn('log_write_start', ready);
      if (!this.writeLog(batch, ready, snapshot)) return;
      this.lazyHardStates.clear();
      if (tracing) traceTurn('log_write_end', ready);
      failpoint('raft_log_after_write');
    }
    const t1 = this.runtime.now();

    // Readies whose acks may go now: all of them if nothing waits for a sync (and a
    // durable write made everything durable), else none — they wait behind the write.
    let durable: [RegionPeer, Ready][] = [];
    if (mustSync && snapshot) {
      durable = this.unsynced.allDurable();
      durable.push(...ready);
    } else if (this.unsynced.idle && !mustSync) {
      durable = ready;
    } else {
      this.unsynced.hold(ready);
      this.syncLog();
    }

    let committed = 0;
    let softStateChanged = false;
    if (tracing) traceTurn('apply_start', ready);
    for (const [p, rd] of ready) {
      if (rd.softState) softStateChanged = true;
      if (rd.snapshot) p.onSnapshotApplied(rd.snapshot);
      if (rd.committedEntries.length > 0) failpoint('apply_before');
      p.applyCommitted(rd.committedEntries);
      if (rd.committedEntries.length > 0) failpoint('apply_after');
      for (const split of p.takeAppliedSplits()) this.hooks.onSplitApplied?.(p, split);
      for (const merge of p.takeAppliedMerges()) {
        // The source's rows live in the target's file now: its replica goes at the end of
        // the turn (it may still be in this turn's list; it applies nothing more).
        if (merge.kind === 'committed')
          this.destroyAfterTurn.set(merge.source.id, {
            why: `merged into region ${p.regionId}`,
            appliedEnd: true,
          });
        this.hooks.onMergeApplied?.(p, merge);
      }
      committed += rd.committedEntries.length;
      p.node.advanceApply(rd);
      p.afterApply(rd);
      if (p.takeConfChanged()) {
        failpoint('conf_change_apply_after');
        // A replica the change removed destroys itself (TiKV: on applying its removal).
        if (!p.peerById(p.peerId))
          this.destroyAfterTurn.set(p.regionId, {
            why: 'removed by a conf change',
            appliedEnd: true,
          });
        else this.hooks.onConfChangeApplied?.(p);
      }
      // Advancing may have produced work (our own acks commit entries): go again.
      if (p.node.hasReady()) p.dirty = true;
    }
    this.completeDurable(durable);
    const t2 = this.runtime.now();
    if (tracing) traceTurn('apply_end', ready);
    this.hooks.onTurn?.({
      peers: ready.length,
      entries,
      committed,
      synced: mustSync,
      softStateChanged,
      writeMs: t1 - t0,
      applyMs: t2 - t1,
    });
    for (const [regionId, d] of [...this.destroyAfterTurn]) {
      this.destroyAfterTurn.delete(regionId);
      this.destroyPeer(regionId, d.why, d);
    }
    // Peers that got work while this turn ran (they were skipped, or went again).
    if (this.dirtyPeers.size > 0) this.schedule();
  }

  /**
   * Sync the log if a committed write is not yet durable and no sync runs; when it
   * returns, release the Readies it made durable and sync again if more was written.
   * A failed sync stops the store: the kernel may have dropped the dirty pages, so a
   * retry could report durable what is lost (PostgreSQL's "fsyncgate").
   */
  private syncLog(): void {
    const seq = this.unsynced.startSync();
    if (seq === undefined) return;
    const t0 = this.runtime.now();
    if (tracing) trace('log_sync_start');
    this.logEngine.sync((err) =>
      this.guarded(() => {
        if (this.stopped) return;
        if (err) throw err;
        if (tracing) trace('log_sync_end');
        this.hooks.onLogSync?.(this.runtime.now() - t0);
        this.completeDurable(this.unsynced.finishSync(seq));
        this.syncLog();
        if (this.dirtyPeers.size > 0) this.schedule();
      }),
    );
  }

  /**
   * Readies whose writes are durable: their acks go out and Raft counts our own
   * (advanceAppend), oldest first. A peer destroyed or replaced meanwhile has nothing
   * left to acknowledge.
   */
  private completeDurable(durable: [RegionPeer, Ready][]): void {
    if (durable.length === 0) return;
    for (const [p, rd] of durable) {
      if (this.peers.get(p.regionId) !== p) continue;
      this.sendAll(p, rd.persistedMessages);
      p.node.advanceAppend(rd);
      // Our own ack may have committed entries: go again.
      if (p.node.hasReady()) p.dirty = true;
    }
    this.transport.flush();
  }

  /**
   * The turn's one log write. A disk without room fails it (SQLITE_FULL) as a whole, and
   * none of it becomes visible (raft_log_engine.ts): instead of stopping the store, the
   * turn waits — no other turn starts, nothing of it is acknowledged — and writes again a
   * little later, with the placeholder's bytes given to it (disk_usage.ts) or once space
   * returns. Returns whether the write is done.
   */
  private writeLog(
    batch: RaftLogWriteBatch,
    ready: [RegionPeer, Ready][],
    durable: boolean,
  ): boolean {
    try {
      this.logEngine.write(batch, { durable });
      if (!durable) this.unsynced.committed();
    } catch (e) {
      if (!isOutOfSpace(e)) throw e;
      this.hooks.logWriteFailedForSpace?.();
      if (this.spaceFailures++ === 0)
        this.log({ err: (e as Error).message }, 'raft log write waits for disk space');
      this.writing = true;
      this.runtime.setTimer(LOG_WRITE_SPACE_RETRY_MS, () => {
        this.writing = false;
        this.guarded(() => this.finishTurn(ready, true));
      });
      return false;
    }
    if (this.spaceFailures > 0) {
      this.log({ failures: this.spaceFailures }, 'raft log write done after waiting for space');
      this.spaceFailures = 0;
    }
    return true;
  }

  private sendAll(p: RegionPeer, msgs: Message[]): number {
    let sent = 0;
    for (const m of msgs) {
      const to = p.peerById(m.to);
      const from = p.peerById(p.peerId);
      if (!to || !from) continue; // not in our view of the Region: nothing to route by
      const env: RaftEnvelope = {
        regionId: p.regionId,
        fromPeer: from,
        toPeer: to,
        epoch: { ...p.region.epoch },
        message: m,
      };
      if (HeldCommits.isCommitOnly(p, m)) {
        this.heldCommits.hold(env);
        continue;
      }
      this.heldCommits.supersede(env);
      this.transport.send(env);
      sent++;
      if (m.type === MessageType.Snap)
        this.log({ regionId: p.regionId, to: m.to }, 'sending snapshot');
    }
    return sent;
  }

  /**
   * Take a removed replica out of the loop and destroy its data (peer_destroy.ts);
   * `appliedEnd`: it applied its own end, its removal or merge (tombstone.ts). While a
   * turn's log write is pending it waits for the turn's end: that write must not re-create
   * the log this deletes.
   */
  destroyPeer(regionId: number, why: string, how: { appliedEnd: boolean }): void {
    if (this.writing) {
      this.destroyAfterTurn.set(regionId, { why, appliedEnd: how.appliedEnd });
      return;
    }
    const p = this.peers.get(regionId);
    if (!p) return;
    this.guarded(() => {
      this.peers.delete(regionId);
      this.lazyHardStates.delete(regionId);
      this.stashedVotes.delete(regionId);
      this.hibernation?.forget(p);
      this.heldCommits.forget(regionId);
      p.close(new RegionError({ kind: 'RegionNotFound', regionId }));
      this.hooks.destroyPeerData?.(p, how.appliedEnd);
      this.log({ regionId, peer: p.peerId, epoch: p.region.epoch, why }, 'peer destroyed');
    });
  }

  /** Have the transport's links to these stores ready (see RaftTransport.connect). */
  connectStores(storeIds: readonly number[]): Promise<void> {
    return this.transport.connect?.(storeIds) ?? Promise.resolve();
  }

  /**
   * Forget an uninitialized peer (created from a message) whose Region a split applied
   * here has just created: the split's peer takes its place. Its data is not destroyed
   * and no tombstone is written; its Raft state (a vote it cast) stays in the log, where
   * the split's peer reads it (PeerLoader.reconcile).
   */
  dropPlaceholder(regionId: number): void {
    const p = this.peers.get(regionId);
    if (!p || p.isInitialized()) return;
    this.peers.delete(regionId);
    this.lazyHardStates.delete(regionId);
    this.hibernation?.forget(p);
    p.close(new RegionError({ kind: 'RegionNotFound', regionId }));
  }

  regions(): Region[] {
    return [...this.peers.values()].map((p) => p.region);
  }
}

/**
 * A turn's stage for the tracer (common/trace.ts), named by the role of its peers (L if
 * one leads, F otherwise) and recorded only for turns that carry entries to write or apply.
 */
function traceTurn(stage: string, ready: [RegionPeer, Ready][]): void {
  let work = false;
  let leader = false;
  for (const [p, rd] of ready) {
    if (rd.entries.length > 0 || rd.committedEntries.length > 0) work = true;
    if (p.isLeader()) leader = true;
  }
  if (work) trace(`${leader ? 'L' : 'F'}.${stage}`);
}

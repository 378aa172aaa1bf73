// One replica of one Region on this store: its Raft node, its Region meta, and the client
// requests waiting on it. The store loop (raft_store.ts) drives every peer through the same
// phases each turn — collect Ready, one log write for all, send, apply, advance — so a peer
// never does I/O on its own except applying to its Region engine.
import {
  NONE,
  ProposalDroppedError,
  RawNode,
  Ready,
  ReadState,
  SeededRand,
  StateRole,
  UncommittedSizeExceededError,
  Entry,
  Snapshot,
  invariant,
  payloadsSize,
} from '../raft/index.js';
import { RegionError } from '../region/errors.js';
import { Peer, PeerRole, Region, cloneRegion, keyInRegion } from '../region/meta.js';
import { ProgressState } from '../raft/index.js';
import {
  PeerChange,
  buildConfChange,
  checkConfChange,
  isInitializedRegion,
} from './conf_change.js';
import { RegionRaftStorage } from '../storage/raft_log_view.js';
import {
  ClientRequest,
  RaftCommand,
  SplitRequest,
  SessionStamp,
  WriteOp,
  WriteResult,
  encodeCommand,
} from './cmd/command.js';
import { LeaderLease } from './lease.js';
import { ProposalQueue } from './proposal_queue.js';
import { ReadQueue } from './read_queue.js';
import { RegionEngine } from '../storage/region_engine.js';
import { AppliedEntry, RegionApplier, RequestOutcome, SuspendedSplit } from './region_applier.js';
import { failpoint } from '../common/failpoint.js';
import { trace } from '../common/trace.js';
import { SplitContext, SplitResult } from './split_apply.js';
import { SessionOptions } from './session_table.js';
import { MergeOutcome, MergeSourceReplica, mergingError } from './merge_apply.js';
import { MergeState } from '../storage/region_state.js';
import { checkPrepareMerge } from './merge_propose.js';
import { clockRaftSeed } from './runtime.js';
import type { WakeReason } from './hibernation.js';
import { PeerLiveness } from './peer_liveness.js';
import { FollowerApplyBatch, mayWait } from './follower_apply_batch.js';
import type { ParentCommitRequest } from './split_copy_worker.js';

export type { WriteResult } from './cmd/command.js';

/** A membership change or transfer the leader will not propose, and why. */
export class ConfChangeRefusedError extends Error {
  override name = 'ConfChangeRefusedError';
}

export interface PeerConfig {
  storeId: number;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Pending proposals beyond this answer ServerIsBusy. */
  maxPendingProposals: number;
  /** Largest encoded command accepted into the log. */
  maxEntryBytes: number;
  /** Max uncommitted bytes on a leader (flow control toward slow followers). */
  maxUncommittedBytes: number;
  /** Requests waiting longer than this fail with a retryable error. */
  requestTimeoutMs: number;
  /** Exactly-once session records (defaults: session_table.ts). */
  sessions?: SessionOptions;
}

interface PendingWrite {
  request: ClientRequest;
  /** The Region version the request was checked against when it arrived. */
  version: number;
  done: (r: WriteResult | Error) => void;
  /** Upper bound of the request's encoded size. */
  size: number;
}

/** Upper bound of a command's encoded size without its requests (see cmd/command.ts). */
const COMMAND_HEADER_BYTES = 64;
/** Upper bound of a request's encoded size without its ops (flags, session stamp). */
const REQUEST_HEADER_BYTES = 100;

function encodedWritesSize(writes: WriteOp[]): number {
  let n = 0;
  for (const w of writes) {
    switch (w.op) {
      case 'put':
        n += 10 + w.key.length + w.value.length;
        break;
      case 'delete':
        n += 6 + w.key.length;
        break;
      case 'deleteRange':
        n += 10 + w.start.length + w.end.length;
        break;
      case 'cas':
        n += 15 + w.key.length + w.value.length + (w.previous?.length ?? 0);
        break;
    }
  }
  return n;
}

/** What the peer reports for metrics. */
export interface PeerObserver {
  proposal(outcome: 'proposed' | 'applied' | 'failed' | 'rejected'): void;
  /** From proposal to applied on the leader, in ms. */
  committed(ms: number): void;
  /** A linearizable read took the lease path, or waited for a ReadIndex round. */
  read(path: 'lease' | 'read_index'): void;
}

export const NO_OBSERVER: PeerObserver = {
  proposal: () => undefined,
  committed: () => undefined,
  read: () => undefined,
};

/** The longest wait between campaigns that holdElections grows to (100 s at the default tick). */
const MAX_ELECTION_BACKOFF_TICKS = 1000;

/** How a peer came to be, and what it may change beyond its own Region. */
export interface PeerOptions {
  /** The engines of Regions a split of this one creates. */
  split?: SplitContext;
  /**
   * Created just now by a split or from PD's bootstrap (not loaded from disk, not a
   * placeholder that answered messages): it has never heard from any leader of its
   * Region, so no lease of that Region can rest on its silence, and it may vote at once —
   * which is what lets the new Region elect its leader in one round (raft config
   * refuseVotesOnStart; after a restart the rule applies again).
   */
  createdNow?: boolean;
  /** Run a split's copy (step 1) off the loop; resolves with the new Regions left alone. */
  copySplitOffLoop?: (parentId: number, created: Region[]) => Promise<number[]>;
  /**
   * Run a split's step 2 (the parent's cut and meta) off the loop too, after the copy;
   * resolves with whether the parent's file was still where the split found it.
   */
  commitSplitParentOffLoop?: (req: Omit<ParentCommitRequest, 'dataDir'>) => Promise<boolean>;
  /** This store's replica of a merge source, for a CommitMerge applied here (merge_apply.ts). */
  mergeSourceOf?: (regionId: number) => MergeSourceReplica | undefined;
  /** Whether the disk has room to apply about this many bytes now (disk_usage.ts). */
  roomToApply?: (bytes: number) => boolean;
  /** Let a follower apply in fewer, fuller batches (follower_apply_batch.ts); a store sets it. */
  followerApplyBatch?: FollowerApplyBatch;
}

export class RegionPeer {
  region: Region;
  readonly peerId: number;
  readonly node: RawNode;
  appliedIndex: number;
  appliedTerm: number;
  private hasWork = true;
  /** Ticks the next campaign waits while no leader is known (holdElections); 0: none. */
  private electionBackoff = 0;
  /** Told when the peer gets work, so the store keeps a set of peers with work (store_dirty_set.ts). */
  onDirty: (peer: RegionPeer) => void = () => undefined;
  /**
   * Start an election now rather than after an election timeout: the one peer of a new
   * Region chosen to lead it (split_runner.ts, pd_worker.ts), so that the Region elects in
   * one round while its other peers vote at once (createdNow).
   */
  campaign(): void {
    this.node.campaign();
    this.dirty = true;
  }
  /** Set when the loop must give this peer a turn (message, proposal, tick output). */
  get dirty(): boolean {
    return this.hasWork;
  }
  set dirty(v: boolean) {
    this.hasWork = v;
    if (v) this.onDirty(this);
  }
  /** Each proposal is answered with one outcome per request its entry carried. */
  private readonly proposals: ProposalQueue<RequestOutcome[] | SplitResult | MergeOutcome>;
  /** The merge fence (PrepareMerge applied, not yet committed or rolled back): merge_apply.ts. */
  private mergeFence: MergeState | undefined;
  /** A CommitMerge on the target took this replica's rows: it applies nothing more. */
  private mergedAway = false;
  /** Merge commands applied since the store last took them. */
  private appliedMerges: MergeOutcome[] = [];
  /** Splits applied since the store last took them (it creates their peers). */
  private appliedSplits: SplitResult[] = [];
  /** The Regions the latest split here created (for EpochNotMatch answers). */
  private lastSplit: Region[] = [];
  /** A split's copy runs off the loop; committed entries wait in heldEntries. */
  private splitInFlight = false;
  private splitAbandoned = false;
  /**
   * Committed entries not applied yet: behind a split's copy, or, with no split under way,
   * for disk space or for a follower's fuller batch (follower_apply_batch.ts).
   */
  private heldEntries: Entry[] = [];
  /** When the follower batch now waiting began to wait (this.now()). */
  private batchWaitingSince = 0;
  /** The log index of the last admin command this peer proposed as leader (see read()). */
  private adminProposedAt = 0;
  /** Set by the store: an off-loop apply step finished (or failed: the store stops). */
  onAsyncApplied: (err: Error | undefined) => void = () => undefined;
  private readonly applier: RegionApplier;
  /** Writes queued this turn, proposed together by flushWrites(). */
  private pendingWrites: PendingWrite[] = [];
  private readonly reads = new ReadQueue();
  private readonly lease: LeaderLease;
  private lastRole: StateRole = StateRole.Follower;
  private lastLeader = NONE;
  /** A conf change applied since the store last looked (it reports, or destroys us). */
  private confChanged = false;
  /** The split checker's last measure of the Region (reported to PD: its merge checker). */
  sizeEstimate: { bytes: number; keys: number } | undefined;
  /** Ticks since a leader's message last reached this peer (stale peer detection). */
  leaderSilentTicks = 0;
  /** Not ticked by the store: the group hibernates (hibernation.ts). */
  asleep = false;
  /** A leader's consecutive quiescent, idle ticks (hibernation.ts). */
  idleTicks = 0;
  /** The last log index those idle ticks saw (a write between two ticks restarts them). */
  idleIndex = 0;
  /** While asleep as a follower: the store of the leader it sleeps with (else NONE). */
  sleepingWithStore = NONE;
  /** Set by the store: a request arrived for this peer while it sleeps. */
  onWake: (peer: RegionPeer, reason: WakeReason) => void = () => undefined;
  /**
   * As leader: when each peer was last heard from, which are down (peer_liveness.ts). A
   * sleeping group exchanges no messages, so while asleep nothing is reported and the
   * clocks start again when it wakes (else every peer of a sleeping Region would look
   * down: TiKV #10017).
   */
  readonly liveness = new PeerLiveness(() =>
    this.isLeader() && !this.asleep ? this.node.raft.term : undefined,
  );

  constructor(
    region: Region,
    peerId: number,
    readonly logStorage: RegionRaftStorage,
    readonly engine: RegionEngine,
    private readonly cfg: PeerConfig,
    /** A monotonic clock in ms: leases must not move with wall-clock steps. */
    private readonly now: () => number,
    private readonly observer: PeerObserver = NO_OBSERVER,
    /** Wall-clock ms: the time a leader stamps on its commands (sessions expire by it). */
    private readonly wallNow: () => number = Date.now,
    /** Seeds the election jitter; the simulator passes one drawn from its run's seed. */
    raftSeed: number = clockRaftSeed(now(), peerId),
    private readonly opts: PeerOptions = {},
  ) {
    this.region = cloneRegion(region);
    this.proposals = new ProposalQueue(region.id);
    this.applier = new RegionApplier(
      engine,
      () => this.region,
      {
        apply: (cc) => {
          const before = this.node.raft.trk.confState();
          const after = this.node.applyConfChange(cc);
          // A quorum of the new configuration may never have promised anything: earn the
          // lease again (before this batch's renewals, which run after apply).
          this.lease.expireOnConfChange();
          return { before, after };
        },
        setRegion: (r) => {
          this.region = cloneRegion(r);
          this.confChanged = true;
        },
      },
      cfg.sessions,
      opts.split && {
        engineOf: (id) => opts.split!.engineOf(id),
        setRegion: (r) => {
          this.region = cloneRegion(r);
        },
        merging: () => this.mergeFence,
        setMerging: (m) => {
          this.mergeFence = m;
        },
        mergeSource: (id) => opts.mergeSourceOf?.(id),
      },
    );
    this.mergeFence = engine.regionState()?.merging;
    this.peerId = peerId;
    const applied = engine.applyState();
    this.appliedIndex = applied.appliedIndex;
    this.appliedTerm = applied.appliedTerm;
    this.node = new RawNode({
      id: peerId,
      storage: logStorage,
      rand: new SeededRand(raftSeed),
      applied: applied.appliedIndex,
      electionTick: cfg.electionTicks,
      heartbeatTick: cfg.heartbeatTicks,
      maxUncommittedEntriesSize: cfg.maxUncommittedBytes,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      checkQuorum: true,
      preVote: true,
      // Clients talk to leaders; a proposal that reaches a follower is refused, never
      // forwarded, so a request's (index, term) always names the entry it proposed.
      disableProposalForwarding: true,
      ...(opts.createdNow ? { refuseVotesOnStart: false } : {}),
    });
    // Trust a lease for two ticks less than the election timeout: followers ignore votes
    // for a full election timeout after hearing from us, and their first tick may come early.
    this.lease = new LeaderLease(Math.max(0, cfg.electionTicks - 2) * cfg.tickMs);
  }

  get regionId(): number {
    return this.region.id;
  }

  isLeader(): boolean {
    return this.node.raft.state === StateRole.Leader;
  }

  leaderPeer(): Peer | undefined {
    const lead = this.node.raft.lead;
    return lead === NONE ? undefined : this.region.peers.find((p) => p.id === lead);
  }

  peerById(id: number): Peer | undefined {
    return this.region.peers.find((p) => p.id === id);
  }

  notLeader(): RegionError {
    return new RegionError({
      kind: 'NotLeader',
      regionId: this.region.id,
      leader: this.leaderPeer(),
    });
  }

  // ------------------------------------------------------------ request checks

  /** Checks every request goes through: leadership and epoch (the key check is per key). */
  checkRequest(epoch: { confVer: number; version: number } | undefined, needLeader = true): void {
    // A peer created from a message has no range until its snapshot: it serves nothing.
    if (!this.isInitialized())
      throw new RegionError({ kind: 'RegionNotFound', regionId: this.region.id });
    if (needLeader && !this.isLeader()) throw this.notLeader();
    // A fenced merge source serves nothing: its rows are about to belong to the target.
    if (this.mergeFence || this.mergedAway) throw mergingError(this.region.id);
    if (
      epoch &&
      (epoch.version !== this.region.epoch.version || epoch.confVer !== this.region.epoch.confVer)
    ) {
      throw this.epochNotMatch();
    }
  }

  /**
   * The answer to a request of an older epoch: the Region as it is now and, after a split,
   * the new Regions it made, so a client's cache learns both halves at once (TiKV's
   * EpochNotMatch carries them too).
   */
  epochNotMatch(): RegionError {
    const current = [cloneRegion(this.region)];
    for (const r of this.lastSplit) current.push(cloneRegion(r));
    return new RegionError({ kind: 'EpochNotMatch', currentRegions: current });
  }

  checkKey(key: Buffer): void {
    if (!keyInRegion(key, this.region)) {
      throw new RegionError({
        kind: 'KeyNotInRegion',
        key,
        regionId: this.region.id,
        startKey: this.region.startKey,
        endKey: this.region.endKey,
      });
    }
  }

  // ------------------------------------------------------------ writes

  /**
   * Queue a write batch; `done` runs once it is applied here (or failed). The writes of one
   * loop turn are proposed together as one Raft entry (flushWrites), as TiKV batches
   * commands: one log row, one append and one apply instead of one per client request.
   */
  proposeWrite(
    writes: WriteOp[],
    session: SessionStamp | undefined,
    done: (r: WriteResult | Error) => void,
  ): void {
    if (this.asleep) this.onWake(this, 'proposal');
    if (this.proposals.size + this.pendingWrites.length >= this.cfg.maxPendingProposals) {
      this.observer.proposal('rejected');
      throw new RegionError({
        kind: 'ServerIsBusy',
        reason: 'too many pending proposals',
        backoffMs: 20,
      });
    }
    const size = REQUEST_HEADER_BYTES + encodedWritesSize(writes);
    if (size + COMMAND_HEADER_BYTES > this.cfg.maxEntryBytes) {
      this.observer.proposal('rejected');
      throw new RegionError({
        kind: 'RaftEntryTooLarge',
        regionId: this.region.id,
        entrySize: size,
      });
    }
    const request: ClientRequest = session ? { session, writes } : { writes };
    this.pendingWrites.push({ request, version: this.region.epoch.version, done, size });
    this.dirty = true;
  }

  /** Propose the writes queued this turn, as few entries as the entry size limit allows. */
  flushWrites(): void {
    while (this.pendingWrites.length > 0) {
      let bytes = COMMAND_HEADER_BYTES;
      let n = 0;
      while (
        n < this.pendingWrites.length &&
        (n === 0 || bytes + this.pendingWrites[n]!.size <= this.cfg.maxEntryBytes)
      ) {
        bytes += this.pendingWrites[n]!.size;
        n++;
      }
      this.proposeGroup(this.pendingWrites.splice(0, n));
    }
  }

  private proposeGroup(all: PendingWrite[]): void {
    // A request checked against an older version (a split or merge applied since it
    // arrived) may name keys the Region no longer owns: send it back to the client.
    const group: PendingWrite[] = [];
    if (this.mergeFence || this.mergedAway) {
      for (const w of all) {
        this.observer.proposal('rejected');
        w.done(mergingError(this.region.id));
      }
      return;
    }
    for (const w of all) {
      if (w.version === this.region.epoch.version) group.push(w);
      else {
        this.observer.proposal('rejected');
        w.done(this.epochNotMatch());
      }
    }
    if (group.length === 0) return;
    const cmd: RaftCommand = {
      regionId: this.region.id,
      epoch: { ...this.region.epoch },
      timeMs: this.wallNow(),
      requests: group.map((w) => w.request),
    };
    const failAll = (err: Error) => {
      for (const w of group) {
        this.observer.proposal('rejected');
        w.done(err);
      }
    };
    // Leadership may have moved since the writes were queued. A follower must not propose
    // at all: the entry would be forwarded and our (index, term) bookkeeping would match
    // whatever else lands at that index.
    if (!this.isLeader()) {
      failAll(this.notLeader());
      return;
    }
    try {
      this.node.propose(encodeCommand(cmd));
    } catch (e) {
      if (e instanceof UncommittedSizeExceededError) {
        failAll(
          new RegionError({
            kind: 'ServerIsBusy',
            reason: 'too many uncommitted bytes',
            backoffMs: 50,
          }),
        );
      } else if (e instanceof ProposalDroppedError) {
        failAll(this.notLeader());
      } else {
        throw e;
      }
      return;
    }
    trace('propose');
    const raft = this.node.raft;
    for (let i = 0; i < group.length; i++) this.observer.proposal('proposed');
    this.proposals.push({
      index: raft.raftLog.lastIndex(),
      term: raft.term,
      proposedAt: this.now(),
      leaseGeneration: this.lease.currentGeneration(),
      // Each request gets the outcome of its own position in the entry.
      done: (r) => {
        for (let i = 0; i < group.length; i++) {
          group[i]!.done(r instanceof Error ? r : Array.isArray(r) ? r[i]! : adminAnswer());
        }
      },
    });
  }

  // ------------------------------------------------------------ admin commands

  /**
   * Propose a batch split prepared against `epoch` (ids from PD). `done` gets the Regions
   * once the split is applied here, or why it was not.
   */
  proposeSplit(
    epoch: { confVer: number; version: number },
    splits: SplitRequest[],
    done: (r: SplitResult | Error) => void,
  ): void {
    if (this.asleep) this.onWake(this, 'admin');
    this.checkRequest(epoch);
    this.proposeAdminEntry({ kind: 'batchSplit', splits }, (r) =>
      done(
        r instanceof Error
          ? r
          : !Array.isArray(r) && !('kind' in r)
            ? r
            : new Error('split entry applied as something else'),
      ),
    );
  }

  // ------------------------------------------------------------ merge (merge_apply.ts)

  /** The merge fence, while this Region is a prepared merge source. */
  merging(): MergeState | undefined {
    return this.mergeFence;
  }

  /** Whether a CommitMerge on the target took this replica's rows (it is destroyed next). */
  isMergedAway(): boolean {
    return this.mergedAway;
  }

  /**
   * PrepareMerge on this Region (the source) toward `target` as PD knows it; `done` gets
   * the outcome once applied here. Refused (ConfChangeRefusedError) when a source replica
   * lags behind the log's start, or the log holds a conf change or an admin command after
   * the lowest replica's match, as TiKV's pre-checks do (merge_propose.ts).
   */
  proposePrepareMerge(target: Region, done: (r: MergeOutcome | Error) => void): void {
    this.checkRequest(undefined);
    const why = checkPrepareMerge(this.region, target, this.node.raft, this.appliedIndex);
    if (typeof why === 'string')
      throw new ConfChangeRefusedError(`region ${this.region.id}: ${why}`);
    this.proposeAdmin({ kind: 'prepareMerge', minIndex: why.minIndex, target }, done);
  }

  /** CommitMerge on this Region (the target), carrying the source's entries. */
  proposeCommitMerge(
    source: Region,
    commit: number,
    entries: Entry[],
    done: (r: MergeOutcome | Error) => void,
  ): void {
    this.checkRequest(undefined);
    this.proposeAdmin({ kind: 'commitMerge', source, commit, entries }, done);
  }

  /** RollbackMerge on this fenced source (its target can no longer commit). */
  proposeRollbackMerge(commit: number, done: (r: MergeOutcome | Error) => void): void {
    if (!this.isLeader()) throw this.notLeader();
    this.proposeAdmin({ kind: 'rollbackMerge', commit }, done);
  }

  private proposeAdmin(
    admin: NonNullable<RaftCommand['admin']>,
    done: (r: MergeOutcome | Error) => void,
  ): void {
    // A CommitMerge carries the source's entries: it may outgrow one Raft entry.
    this.proposeAdminEntry(
      admin,
      (r) =>
        done(
          r instanceof Error || (!Array.isArray(r) && 'kind' in r)
            ? r
            : new Error('merge entry applied as something else'),
        ),
      this.cfg.maxEntryBytes,
    );
  }

  /**
   * Propose one admin command as its own entry and track it; `done` gets what its apply
   * produced. An entry over `maxBytes` is refused with RaftEntryTooLarge.
   */
  private proposeAdminEntry(
    admin: NonNullable<RaftCommand['admin']>,
    done: (r: RequestOutcome[] | SplitResult | MergeOutcome | Error) => void,
    maxBytes = Infinity,
  ): void {
    // Split and merge steps (PrepareMerge, CommitMerge, RollbackMerge) run on an awake group.
    if (this.asleep) this.onWake(this, 'admin');
    const cmd: RaftCommand = {
      regionId: this.region.id,
      epoch: { ...this.region.epoch },
      timeMs: this.wallNow(),
      requests: [],
      admin,
    };
    const data = encodeCommand(cmd);
    if (data.length > maxBytes)
      throw new RegionError({
        kind: 'RaftEntryTooLarge',
        regionId: this.region.id,
        entrySize: data.length,
      });
    try {
      this.node.propose(data);
    } catch (e) {
      if (e instanceof ProposalDroppedError || e instanceof UncommittedSizeExceededError) {
        throw this.notLeader();
      }
      throw e;
    }
    const raft = this.node.raft;
    this.adminProposedAt = raft.raftLog.lastIndex();
    this.proposals.push({
      index: this.adminProposedAt,
      term: raft.term,
      proposedAt: this.now(),
      leaseGeneration: this.lease.currentGeneration(),
      done,
    });
    this.dirty = true;
  }

  /** This replica as a merge source for the target's CommitMerge apply on this store. */
  asMergeSource(): MergeSourceReplica {
    return {
      engine: this.engine,
      region: () => cloneRegion(this.region),
      appliedIndex: () => this.appliedIndex,
      merging: () => this.mergeFence,
      localEntries: (lo, hi) => this.logStorage.entries(lo, hi, Number.MAX_SAFE_INTEGER),
      splitInFlight: () => this.splitInFlight,
      // Inline: a split among the entries must apply before the PrepareMerge after it,
      // within this call, for the CommitMerge to find this replica fenced.
      catchUp: (entries) => this.applyCommitted(entries, { inlineSplits: true }),
      markMerged: () => {
        this.mergedAway = true;
      },
    };
  }

  /** Merge commands applied since the last call (the store destroys merged sources). */
  takeAppliedMerges(): MergeOutcome[] {
    const m = this.appliedMerges;
    this.appliedMerges = [];
    return m;
  }

  /** Whether the peer has its Region's data (not a placeholder awaiting its snapshot). */
  isInitialized(): boolean {
    return isInitializedRegion(this.region);
  }

  /**
   * Propose a membership change PD asked for (conf_change.ts); the leader checks it
   * first. PD learns the outcome from the heartbeats; nothing waits on the entry.
   */
  proposeConfChange(changes: PeerChange[]): void {
    if (this.asleep) this.onWake(this, 'admin');
    if (!this.isLeader()) throw this.notLeader();
    // A merging source keeps its membership until the merge commits or rolls back (TiKV
    // refuses such proposals too): the CommitMerge was planned for these peers.
    if (this.mergeFence) throw new ConfChangeRefusedError(`region ${this.region.id} is merging`);
    const raft = this.node.raft;
    // Alive: answering now (recentActive is cleared at every check-quorum round, so a
    // follower that is replicating normally counts too).
    const why = checkConfChange(this.region, this.peerId, changes, (id) => {
      const pr = raft.trk.progress.get(id);
      return pr !== undefined && (pr.recentActive || pr.state === ProgressState.Replicate);
    });
    if (why) throw new ConfChangeRefusedError(`region ${this.region.id}: ${why}`);
    // Raft refuses a second change while one is unapplied (§4.1) and an invalid one.
    this.node.proposeConfChange(buildConfChange(this.region, changes));
    this.dirty = true;
  }

  /**
   * Hand leadership to the voter `peerId` (thesis §3.10). Refused toward a learner or a
   * follower far behind (it would need the log first, and the transfer times out). The
   * lease stops being trusted at once (afterApply and read() see leadTransferee), since
   * TimeoutNow lets the target win past the followers' leases.
   */
  transferLeader(peerId: number, maxLag: number): void {
    if (this.asleep) this.onWake(this, 'admin');
    if (!this.isLeader()) throw this.notLeader();
    const target = this.peerById(peerId);
    if (!target)
      throw new ConfChangeRefusedError(`peer ${peerId} is not in region ${this.region.id}`);
    if (target.role !== PeerRole.Voter)
      throw new ConfChangeRefusedError(`peer ${peerId} is a ${target.role}, not a voter`);
    if (peerId === this.peerId) return;
    const raft = this.node.raft;
    const pr = raft.trk.progress.get(peerId);
    const lag = raft.raftLog.lastIndex() - (pr?.match ?? 0);
    if (!pr || lag > maxLag)
      throw new ConfChangeRefusedError(
        `peer ${peerId} is ${lag} entries behind (at most ${maxLag})`,
      );
    this.lease.expire();
    this.node.transferLeader(peerId);
    this.dirty = true;
  }

  /**
   * Ask the leader to hand leadership to this replica (a TransferLeader forwarded to it,
   * thesis §3.10), for a step only this store can justify: a merge rollback whose proof is
   * here (merge_runner.ts). Returns false when there is nothing to ask: this replica leads,
   * knows no leader, or is a learner. The leader catches us up first, as for any transfer.
   */
  askToLead(): boolean {
    if (this.isLeader() || !this.leaderPeer()) return false;
    if (this.peerById(this.peerId)?.role !== PeerRole.Voter) return false;
    if (this.asleep) this.onWake(this, 'admin');
    this.node.transferLeader(this.peerId);
    this.dirty = true;
    return true;
  }

  /**
   * Peers that cannot be counted on yet (TiKV's pending peers): without progress, being
   * sent a snapshot, or behind the log's first index (they need one). PD promotes a
   * learner only once it is no longer pending.
   */
  pendingPeers(): Peer[] {
    const raft = this.node.raft;
    const first = raft.raftLog.firstIndex();
    return this.region.peers.filter((p) => {
      if (p.id === this.peerId) return false;
      const pr = raft.trk.progress.get(p.id);
      return !pr || pr.state === ProgressState.Snapshot || pr.match < first - 1;
    });
  }

  /** Whether a conf change applied since the last call. */
  takeConfChanged(): boolean {
    const c = this.confChanged;
    this.confChanged = false;
    return c;
  }

  /** A split's steps are running on worker threads (startSplitCopy). */
  get applyingSplit(): boolean {
    return this.splitInFlight;
  }

  /** The splits applied since the last call (the store creates their new peers). */
  takeAppliedSplits(): SplitResult[] {
    const s = this.appliedSplits;
    this.appliedSplits = [];
    return s;
  }

  // ------------------------------------------------------------ reads

  /**
   * Run `run` at a linearizable point: at once under a valid lease (when everything
   * committed is applied), otherwise after a ReadIndex round confirms leadership.
   */
  read(run: () => void, fail: (err: Error) => void): void {
    // A sleeping leader's lease was expired when it fell asleep: the read wakes the group
    // and goes through ReadIndex, whose heartbeats wake the followers (hibernation.ts).
    if (this.asleep) this.onWake(this, 'read');
    const raft = this.node.raft;
    const now = this.now();
    const read = { run, fail, arrivedAt: now };
    const committed = raft.raftLog.committed;
    if (
      raft.leadTransferee === NONE &&
      this.lease.isValid(now) &&
      raft.raftLog.zeroTermOnOutOfBounds(committed) === raft.term
    ) {
      this.observer.read('lease');
      if (this.appliedIndex >= committed || this.readableAtApplied()) run();
      else this.reads.addAtIndex(read, committed);
      return;
    }
    this.observer.read('read_index');
    this.reads.add(read);
    this.dirty = true;
  }

  /**
   * Whether a lease read may be served at the applied state at once, without waiting for
   * entries committed but not applied yet (TiKV's local reader reads its applied state).
   * Every write is answered only once applied here, so the applied state holds every
   * write answered before the read arrived, once this leader has applied an entry of its
   * own term (every earlier leader's entries come before it). Entries committed and not
   * applied belong to requests not answered yet: the read is concurrent with them and
   * may go before them. (Async-commit and 1PC locks not applied yet are in the
   * concurrency manager's memory, which transactional reads check first.)
   *
   * What the applied state cannot tell is a change of the Region itself: a split that is
   * committed but not applied here may be applied by the followers, whose new Region then
   * elects a leader and takes writes for keys this leader still serves; a merge or conf
   * change likewise. So the read waits while an admin command or a conf change is not
   * applied: one this leader proposed (adminProposedAt, pendingConfIndex), or one of an
   * earlier term (then the applied term is older).
   */
  private readableAtApplied(): boolean {
    const raft = this.node.raft;
    return (
      this.appliedTerm === raft.term &&
      this.adminProposedAt <= this.appliedIndex &&
      raft.pendingConfIndex <= this.appliedIndex &&
      !this.splitInFlight
    );
  }

  // ------------------------------------------------------------ loop phases

  tick(): void {
    this.leaderSilentTicks++;
    const raft = this.node.raft;
    const elapsed = raft.electionElapsed;
    this.node.tick();
    if (this.electionBackoff > 0) {
      if (raft.lead !== NONE) this.electionBackoff = 0;
      else if (raft.state !== StateRole.Follower && raft.electionElapsed !== elapsed + 1) {
        // A campaign started on this tick, and the last one won nothing: wait longer.
        this.electionBackoff = Math.min(this.electionBackoff * 2, MAX_ELECTION_BACKOFF_TICKS);
        this.node.delayElection(this.electionBackoff);
      }
    }
    this.dirty = true;
  }

  /**
   * Wait `ticks` before campaigning, and twice as long before each new campaign until a
   * leader is known: the peers of thousands of Regions bootstrapped at once (pd_worker.ts)
   * must let each election round carry through before starting the next, however long
   * the machine takes. A known leader ends it; after that, elections run as Raft has them.
   */
  holdElections(ticks: number): void {
    this.electionBackoff = ticks;
    this.node.delayElection(ticks);
  }

  /**
   * Nothing waits in this peer: no queued or proposed write, read, split copy, and no merge
   * under way (a fenced source must keep ticking until its merge commits or rolls back:
   * the merge runner and a re-elected leader drive it, TiKV keeps such a peer awake too).
   */
  isIdle(): boolean {
    return (
      this.pendingWrites.length === 0 &&
      this.proposals.size === 0 &&
      this.reads.size === 0 &&
      !this.splitInFlight &&
      this.heldEntries.length === 0 &&
      this.mergeFence === undefined &&
      !this.mergedAway
    );
  }

  /**
   * Stop ticking (hibernation.ts). A leader's lease goes now: while nobody ticks, nothing
   * renews it, and after waking only acknowledgements of what it sends then may earn it.
   */
  fallAsleep(): void {
    this.asleep = true;
    this.idleTicks = 0;
    this.lease.expire();
  }

  wakeUp(): void {
    this.asleep = false;
    this.idleTicks = 0;
  }

  /** Send this turn's batched ReadIndex request, if reads are waiting for one. */
  flushReads(): void {
    if (!this.reads.hasUnsent()) return;
    const ctx = this.reads.startBatch(this.now(), this.lease.currentGeneration());
    try {
      this.node.readIndex(ctx);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.reads.failBatch(ctx, this.notLeader());
    }
  }

  /**
   * Apply committed entries to the Region engine in one transaction with the apply state.
   * A split among them copies off the loop when the store gives a way, unless
   * `inlineSplits` (a merge's catch-up, which must have every entry applied on return).
   * A follower may let them wait for a fuller batch (mayWaitForBatch), unless `now` (the
   * tick that applies what waits).
   */
  applyCommitted(entries: Entry[], opts: { inlineSplits?: boolean; now?: boolean } = {}): void {
    // A merge source whose rows moved to the target applies nothing more; and entries a
    // target's CommitMerge already applied here (catch-up, merge_apply.ts) come from Raft
    // again: never twice.
    if (this.mergedAway) return;
    const wasHolding = this.hasHeldEntries;
    if (wasHolding) {
      entries = [...this.heldEntries, ...entries];
      this.heldEntries = [];
    }
    // Each index once, past the apply index: held entries and a merge's catch-up (which
    // starts after the apply index too) may overlap.
    let last = this.appliedIndex;
    entries = entries.filter((e) => (e.index > last ? ((last = e.index), true) : false));
    if (entries.length === 0) return;
    if (this.splitInFlight) {
      // The parent applies nothing past a split until its copy is done (split_apply.ts).
      this.heldEntries.push(...entries);
      return;
    }
    if (!opts.inlineSplits && !opts.now && this.mayWaitForBatch(entries, wasHolding)) {
      this.heldEntries = entries;
      return;
    }
    // A merge's catch-up must apply everything it is given; anything else applies what
    // the disk has room for and holds the rest.
    const waiting = opts.inlineSplits ? [] : entries.splice(this.entriesWithRoom(entries));
    if (entries.length > 0) this.applyNow(entries, opts);
    // Behind the entries of a split that applyNow suspended, if it did.
    this.heldEntries.push(...waiting);
  }

  /**
   * How many of `entries`, from the first, the disk has room to apply now. Raft has them
   * committed in its log, so the others can wait: held, as behind a split, and applied
   * when the store retries (applyHeldForDisk) — reads and answers wait with them. A
   * store whose disk another program filled lags this way instead of failing its apply
   * with SQLITE_FULL, which would stop it.
   */
  private entriesWithRoom(entries: Entry[]): number {
    const room = this.opts.roomToApply;
    if (!room) return entries.length;
    if (room(payloadsSize(entries))) return entries.length;
    let bytes = 0;
    let n = 0;
    while (n < entries.length && room(bytes + entries[n]!.data.length)) {
      bytes += entries[n]!.data.length;
      n++;
    }
    return n;
  }

  /**
   * Whether the entries wait in a follower's batch (follower_apply_batch.ts). Starts the
   * batch's clock when they are the first to wait.
   */
  private mayWaitForBatch(entries: Entry[], wasHolding: boolean): boolean {
    const limits = this.opts.followerApplyBatch;
    if (!limits) return false;
    if (this.node.raft.state !== StateRole.Follower || this.reads.size > 0) return false;
    const now = this.now();
    if (!wasHolding) this.batchWaitingSince = now;
    else if (now - this.batchWaitingSince >= limits.maxDelayMs) return false;
    return mayWait(entries, limits);
  }

  /**
   * Whether committed entries wait: for disk space or in a follower's batch (the store
   * applies them at every tick), not behind a split's copy.
   */
  get hasHeldEntries(): boolean {
    return !this.splitInFlight && this.heldEntries.length > 0;
  }

  /** Apply what fits of the held entries (at a tick); returns whether any applied. */
  applyHeld(): boolean {
    if (!this.hasHeldEntries) return false;
    const before = this.appliedIndex;
    this.applyCommitted([], { now: true });
    if (this.appliedIndex === before) return false;
    if (!this.splitInFlight) this.reads.serve(this.appliedIndex);
    this.dirty = true;
    return true;
  }

  private applyNow(entries: Entry[], opts: { inlineSplits?: boolean }): void {
    const copyOffLoop = opts.inlineSplits ? undefined : this.opts.copySplitOffLoop;
    const { applied, suspended, appliedTo, waiting } = this.applier.applyEntries(
      entries,
      copyOffLoop !== undefined,
    );
    if (waiting) {
      // A CommitMerge whose source replica here is still copying a split: it and what
      // follows wait (held, retried at every turn and tick) until the source is done.
      this.heldEntries = waiting;
      if (appliedTo) {
        this.appliedIndex = appliedTo.index;
        this.appliedTerm = appliedTo.term;
      }
    } else if (appliedTo) {
      // Possibly ahead of the file: a batch of empty entries is not written (region_applier.ts).
      this.appliedIndex = appliedTo.index;
      this.appliedTerm = appliedTo.term;
    } else {
      const st = this.engine.applyState();
      this.appliedIndex = st.appliedIndex;
      this.appliedTerm = st.appliedTerm;
    }
    this.answer(applied);
    if (suspended) this.startSplitCopy(suspended, copyOffLoop!);
  }

  /**
   * Step 1 of a split runs on a worker thread, and step 2 too when the store gives one
   * (split_copy_worker.ts); meanwhile this peer applies nothing more, serves no read and
   * takes no snapshot (raft_store.ts), while every other peer of the store goes on. Then
   * the held entries apply on the loop, and the store is told.
   */
  private startSplitCopy(
    s: SuspendedSplit,
    copy: (parentId: number, created: Region[]) => Promise<number[]>,
  ): void {
    this.splitInFlight = true;
    this.splitAbandoned = false;
    this.heldEntries = [...s.rest];
    failpoint('split_copy_before');
    copy(this.region.id, s.split.created).then(
      (skipped) => this.afterSplitCopy(s, skipped),
      (err: unknown) => this.onAsyncApplied(err as Error),
    );
  }

  /** Step 1 is done: step 2 off the loop if the store runs it there, else at once. */
  private afterSplitCopy(s: SuspendedSplit, skipped: number[]): void {
    if (!this.splitAbandoned) {
      try {
        failpoint('split_copy_after');
      } catch (e) {
        this.onAsyncApplied(e as Error);
        return;
      }
    }
    const commit = this.opts.commitSplitParentOffLoop;
    if (this.splitAbandoned || !commit) {
      this.finishSplitCopy(s, skipped, false);
      return;
    }
    commit({
      split: s.split,
      apply: { index: s.entry.index, term: s.entry.term },
      before: { appliedIndex: this.appliedIndex, appliedTerm: this.appliedTerm },
    }).then(
      (wrote) => {
        if (!wrote && !this.splitAbandoned) {
          this.onAsyncApplied(
            new Error(
              `region ${this.region.id}: the split's parent file moved on from ` +
                `${this.appliedIndex} while the split applied`,
            ),
          );
          return;
        }
        this.finishSplitCopy(s, skipped, true);
      },
      (err: unknown) => this.onAsyncApplied(err as Error),
    );
  }

  private finishSplitCopy(s: SuspendedSplit, skipped: number[], parentCommitted: boolean): void {
    try {
      this.splitInFlight = false;
      if (this.splitAbandoned) {
        // A snapshot replaced the engine meanwhile: it covers the split and what followed.
        this.heldEntries = [];
      } else {
        const result = this.applier.finishSplit(s, { skipped, parentCommitted });
        this.appliedIndex = s.entry.index;
        this.appliedTerm = s.entry.term;
        this.answer([{ index: s.entry.index, term: s.entry.term, outcome: result }]);
        const held = this.heldEntries;
        this.heldEntries = [];
        this.applyCommitted(held);
      }
      this.reads.serve(this.appliedIndex);
      this.dirty = true;
    } catch (e) {
      this.onAsyncApplied(e as Error);
      return;
    }
    this.onAsyncApplied(undefined);
  }

  /** Answer the proposals of applied entries; collect applied splits for the store. */
  private answer(applied: AppliedEntry[]): void {
    for (const a of applied) {
      if (!(a.outcome instanceof Error) && !Array.isArray(a.outcome) && 'kind' in a.outcome) {
        this.onMergeApplied(a.outcome);
      } else if (!(a.outcome instanceof Error) && !Array.isArray(a.outcome)) {
        this.appliedSplits.push(a.outcome);
        this.lastSplit = a.outcome.created;
        // Requests queued against the old range go back to their clients (proposeGroup).
      }
      const p = this.proposals.take(a.index, a.term);
      if (!p) continue;
      // A quorum had the entry, so we were leader when it was proposed: renew the lease.
      this.lease.renew(p.proposedAt, p.leaseGeneration);
      if (!(a.outcome instanceof Error)) {
        this.observer.committed(this.now() - p.proposedAt);
        this.observer.proposal('applied');
      } else {
        this.observer.proposal('failed');
      }
      p.done(a.outcome);
    }
  }

  private onMergeApplied(m: MergeOutcome): void {
    this.appliedMerges.push(m);
    // The fence itself was set or lifted by the apply (AdminApplyContext.setMerging).
    if (m.kind === 'prepared') {
      // Reads waiting for a read point may be served after the target takes writes for
      // these keys: send them back (the client retries on the merged Region).
      this.reads.failAll(() => mergingError(this.region.id));
    }
  }

  /** A snapshot's data was installed in the engine: take its apply state and Region meta. */
  onSnapshotApplied(s: Snapshot): void {
    if (this.splitInFlight) this.splitAbandoned = true;
    if (this.hasHeldEntries) {
      // Raft takes a snapshot only past its commit index (etcd-io/raft's restore), and
      // held entries were committed: the snapshot covers them.
      const last = this.heldEntries[this.heldEntries.length - 1]?.index ?? 0;
      invariant(
        last <= s.metadata.index,
        () => `snapshot at ${s.metadata.index} below held entry ${last}`,
      );
      this.heldEntries = [];
    }
    const st = this.engine.applyState();
    invariant(
      st.appliedIndex === s.metadata.index,
      () => `engine applied ${st.appliedIndex} after snapshot ${s.metadata.index}`,
    );
    this.appliedIndex = st.appliedIndex;
    this.appliedTerm = st.appliedTerm;
    this.applier.onSnapshotInstalled();
    const local = this.engine.regionState();
    if (local) {
      // The snapshot may carry another membership (a peer created from a message gets
      // its first one this way): the store looks at it like at an applied conf change.
      if (local.region.epoch.confVer !== this.region.epoch.confVer) this.confChanged = true;
      this.region = local.region;
      this.mergeFence = local.merging;
    }
  }

  /** After apply: serve reads whose read point is applied; notice leadership changes. */
  afterApply(rd: Ready): void {
    this.handleReadStates(rd.readStates);
    // A read point below the split entry would be served from a file the split's step 2
    // may be cutting on a worker thread: reads wait for the split, then re-check the epoch.
    if (!this.splitInFlight) this.reads.serve(this.appliedIndex);
    const raft = this.node.raft;
    if (raft.state !== this.lastRole || raft.lead !== this.lastLeader) {
      const wasLeader = this.lastRole === StateRole.Leader;
      this.lastRole = raft.state;
      this.lastLeader = raft.lead;
      this.lease.expire();
      if (wasLeader && raft.state !== StateRole.Leader) this.reads.failAll(() => this.notLeader());
    }
    // A transfer started and abandoned within one turn is only visible by its barrier:
    // until the abandonment entry commits, a late TimeoutNow may still elect the target.
    if (raft.leadTransferee !== NONE || raft.transferBarrierIndex > raft.raftLog.committed)
      this.lease.expire();
  }

  private handleReadStates(states: ReadState[]): void {
    for (const rs of states) {
      const sent = this.reads.resolve(rs.requestCtx, rs.index);
      // A quorum confirmed our leadership as of when the request was sent.
      if (sent && this.isLeader()) this.lease.renew(sent.sentAt, sent.leaseGeneration);
    }
  }

  /** Fail requests that waited too long (lost leadership, partition). */
  expireRequests(): void {
    const deadline = this.now() - this.cfg.requestTimeoutMs;
    const timeout = () =>
      new RegionError({
        kind: 'ServerIsBusy',
        reason: 'request timed out waiting for raft',
        backoffMs: 100,
      });
    this.proposals.expire(deadline, timeout);
    this.reads.expire(deadline, timeout);
  }

  /** The peer is going away (store shutdown): answer everyone. */
  close(err: Error): void {
    for (const w of this.pendingWrites.splice(0)) w.done(err);
    this.proposals.failAll(() => err);
    this.reads.failAll(() => err);
  }

  /** Region meta for /status and PD heartbeats. */
  describe(): {
    region: Region;
    leader?: Peer;
    role: StateRole;
    term: number;
    applied: number;
    commit: number;
  } {
    const raft = this.node.raft;
    return {
      region: cloneRegion(this.region),
      leader: this.leaderPeer(),
      role: raft.state,
      term: raft.term,
      applied: this.appliedIndex,
      commit: raft.raftLog.committed,
    };
  }
}

/** A data request whose entry turned out to be an admin command: never happens with our proposer. */
function adminAnswer(): Error {
  return new Error('a write was answered by an admin entry');
}

// The Raft state machine of one node (Ongaro, "Consensus: Bridging Theory and Practice",
// 2014, cited as "thesis §x"), shaped after etcd-io/raft. It is driven only by its
// inputs — tick(), step(message) — and never does I/O: what must be persisted, sent and
// applied is collected here and handed to the application by RawNode as a Ready.
import {
  Changer,
  ConfChangeError,
  decodeConfChange,
  encodeConfChange,
  isLeaveJoint,
  jointKind,
  restoreConfig,
} from './confchange/index.js';
import { ResolvedRaftConfig, RaftConfig, resolveConfig } from './config.js';
import { ProposalDroppedError, UncommittedSizeExceededError, invariant } from './errors.js';
import { RaftLog } from './log.js';
import { VoteResult } from './quorum/index.js';
import { Rand } from './rand.js';
import { ReadOnly, ReadOnlyOption } from './read_only.js';
import {
  Inflights,
  Progress,
  ProgressState,
  ProgressTracker,
  TrackerConfig,
  ProgressMap,
} from './tracker/index.js';
import {
  ConfChange,
  ConfChangeTransition,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  ReadState,
  Snapshot,
  SoftState,
  StateRole,
  isEmptyHardState,
  newMessage,
  payloadsSize,
  voteResponseType,
} from './types.js';

/** Context of vote requests sent on TimeoutNow: they may break a leader lease (§3.10). */
export const CAMPAIGN_TRANSFER = new Uint8Array([0x54, 0x52, 0x41, 0x4e, 0x53, 0x46, 0x45, 0x52]); // "TRANSFER"

export enum CampaignType {
  PreElection = 'PreElection',
  Election = 'Election',
  Transfer = 'Transfer',
}

function isCampaignTransfer(ctx: Uint8Array | undefined): boolean {
  if (!ctx || ctx.length !== CAMPAIGN_TRANSFER.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER[i]) return false;
  return true;
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  state: StateRole = StateRole.Follower;
  /** This node is a learner in the current configuration. */
  isLearner = false;
  lead: NodeId = NONE;
  /** The node leadership is being transferred to, while a transfer runs. */
  leadTransferee: NodeId = NONE;
  /**
   * Leader: the index of the empty entry appended when it abandoned a transfer (0 if
   * none this term). Reads wait until it is committed; see cancelLeaderTransfer().
   */
  transferBarrierIndex = 0;
  /** Only one conf change may be pending: its index (thesis §4.1). */
  pendingConfIndex = 0;
  /** Payload bytes of the leader's uncommitted entries (bounded by config). */
  uncommittedSize = 0;
  readonly readOnly: ReadOnly;
  /** Ticks since the last election timeout reset (leader: since the last check-quorum). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly disableProposalForwarding: boolean;
  /**
   * Ticks left of the start-up lease guard (see RaftConfig.refuseVotesOnStart): while
   * positive, this node treats (pre-)vote requests as if it had just heard from a leader.
   * Counted by tick() in every role and never reset, so it ends exactly one election
   * timeout after the node was created, whatever happens to electionElapsed meanwhile.
   */
  startLeaseTicks: number;
  private readonly maxMsgSize: number;
  private readonly maxUncommittedSize: number;
  private readonly rand: Rand;

  /** Messages that can be sent right away (thesis §10.2.1: the leader may replicate
   * in parallel with its own disk write). */
  msgs: Message[] = [];
  /**
   * Messages that may leave only once this node's unstable entries and hard state are
   * durable: append and vote responses promise persisted state. Messages to self here
   * (the leader's own append ack, a candidate's own vote) are stepped back in after the
   * application reports persistence.
   */
  msgsAfterAppend: Message[] = [];
  readStates: ReadState[] = [];
  /** ReadIndex requests received before the leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];

  private tickFn: () => void = () => this.tickElection();
  private stepFn: (m: Message) => void = (m) => this.stepFollower(m);

  constructor(config: RaftConfig) {
    const c: ResolvedRaftConfig = resolveConfig(config);
    this.id = c.id;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady);
    const { hardState, confState } = c.storage.initialState();
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize;
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.readOnly = new ReadOnly(c.readOnlyOption);
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.rand = c.rand;
    this.startLeaseTicks = c.refuseVotesOnStart && c.checkQuorum ? c.electionTick : 0;

    const restored = restoreConfig(
      confState,
      this.raftLog.lastIndex(),
      c.maxInflightMsgs,
      c.maxInflightBytes,
    );
    const cs = this.switchToConfig(restored.config, restored.progress);
    assertConfStatesEquivalent(cs, confState);

    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- state accessors

  hasLeader(): boolean {
    return this.lead !== NONE;
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private loadState(hs: HardState): void {
    invariant(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () =>
        `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** A node can campaign if it is a voter and is not restoring a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  // ---------------------------------------------------------------- sending

  /** Queue a message. Persistence-dependent responses wait in msgsAfterAppend. */
  send(m: Message): void {
    // Keep a sender that is already set: a forwarded TransferLeader names the transferee
    // in `from`, and a forwarded ReadIndex names the node that asked for the read.
    // Overwriting it would make the relaying follower the transfer target (or the
    // recipient of someone else's ReadState).
    if (m.from === NONE) m.from = this.id;
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp
    ) {
      // Vote messages carry the term they are for (a pre-vote's is the next term).
      invariant(m.term !== 0, () => `term should be set when sending ${m.type}`);
    } else {
      invariant(
        m.term === 0,
        () => `term should not be set when sending ${m.type} (was ${m.term})`,
      );
      // Proposals and read requests are forwarded to the leader as local messages.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    if (
      m.type === MessageType.AppResp ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVoteResp ||
      // A vote request leaves only once the candidate's new term and self-vote are
      // durable (thesis §3.8). Otherwise the other voters alone can elect it, it can
      // crash before the write, restart in the old term, campaign for the same term
      // again, be re-elected by the same voters (they voted for it) and append
      // different entries under the same (index, term): Log Matching breaks.
      m.type === MessageType.Vote
    ) {
      this.msgsAfterAppend.push(m);
    } else {
      invariant(
        m.to !== this.id,
        () => `message should not be self-addressed when sending ${m.type}`,
      );
      this.msgs.push(m);
    }
  }

  /** Send an append (or a snapshot) to `to` if its progress allows; see Progress. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let ents: Entry[];
    try {
      prevTerm = this.raftLog.term(prevIndex);
      // A Replicate peer with a full inflight window gets an empty append only: a
      // heartbeat response unpauses it so that, if every message filling the window
      // was lost, the ack or rejection of this probe frees the window (as etcd/raft
      // does). Sending entries here would overflow the window.
      ents =
        pr.state === ProgressState.Replicate && pr.inflights.full()
          ? []
          : this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch {
      // The entries the follower needs were compacted: send a snapshot instead (§5).
      return this.maybeSendSnapshot(to, pr);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      newMessage({
        type: MessageType.App,
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.raftLog.committed,
      }),
    );
    pr.sentEntries(ents.length, payloadsSize(ents));
    return true;
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false; // don't waste a snapshot on a peer that is down
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch {
      return false; // being built; try again on the next heartbeat response
    }
    invariant(snapshot.metadata.index !== 0, 'need non-empty snapshot');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(newMessage({ type: MessageType.Snap, to, snapshot }));
    return true;
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array | undefined): void {
    // Never commit past what the follower is known to have: it may lack those entries.
    const pr = this.trk.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    const m = newMessage({ type: MessageType.Heartbeat, to, commit });
    if (ctx) m.context = ctx;
    this.send(m);
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx());
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---------------------------------------------------------------- log bookkeeping

  /** The application applied up to `index`; `size` is the payload bytes applied. */
  appliedTo(index: number, size: number): void {
    const oldApplied = this.raftLog.applied;
    const newApplied = Math.max(index, oldApplied);
    this.raftLog.appliedTo(newApplied);
    this.reduceUncommittedSize(size);
    if (
      this.trk.config.autoLeave &&
      newApplied >= this.pendingConfIndex &&
      this.state === StateRole.Leader
    ) {
      // The joint configuration is applied on the leader: propose leaving it (thesis
      // §4.3 second phase). If it fails (e.g. size limits), the next apply retries.
      const leave: ConfChange = { transition: ConfChangeTransition.Auto, changes: [] };
      try {
        this.step(
          newMessage({
            type: MessageType.Prop,
            entries: [
              { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(leave) },
            ],
          }),
        );
      } catch (e) {
        if (!(e instanceof ProposalDroppedError || e instanceof UncommittedSizeExceededError))
          throw e;
      }
    }
  }

  private maybeCommit(): boolean {
    const mci = this.trk.committed();
    if (!Number.isFinite(mci)) return false;
    return this.raftLog.maybeCommit(mci, this.term);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.transferBarrierIndex = 0;
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      const fresh = new Progress(
        last + 1,
        new Inflights(this.trk.maxInflight, this.trk.maxInflightBytes),
        pr.isLearner,
      );
      if (id === this.id) fresh.match = last;
      this.trk.progress.set(id, fresh);
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
  }

  /** Append entries proposed to this leader; false if the uncommitted size limit hits. */
  private appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    for (let i = 0; i < es.length; i++) {
      es[i]!.term = this.term;
      es[i]!.index = li + 1 + i;
    }
    if (!this.increaseUncommittedSize(es)) return false;
    li = this.raftLog.append(es);
    // The leader acknowledges its own entries once they are durable, through the same
    // path as a follower's MsgAppResp (thesis §10.2.1: leader writes in parallel).
    this.send(newMessage({ type: MessageType.AppResp, to: this.id, index: li }));
    return true;
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadsSize(ents);
    // Always admit a proposal when nothing is uncommitted, so one large entry can pass.
    if (
      this.maxUncommittedSize > 0 &&
      this.uncommittedSize > 0 &&
      s > 0 &&
      this.uncommittedSize + s > this.maxUncommittedSize
    ) {
      return false;
    }
    this.uncommittedSize += s;
    return true;
  }

  private reduceUncommittedSize(s: number): void {
    if (this.state !== StateRole.Leader) return;
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  // ---------------------------------------------------------------- ticks and roles

  tick(): void {
    if (this.startLeaseTicks > 0) this.startLeaseTicks--;
    this.tickFn();
  }

  /** Followers and candidates: campaign when the randomized election timeout passes. */
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  /** Leaders: heartbeat, check quorum every election timeout, time out transfers. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (§3.10).
      if (this.state === StateRole.Leader && this.leadTransferee !== NONE)
        this.cancelLeaderTransfer();
    }
    if (this.state !== StateRole.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  /**
   * A node that knows no leader waits `ticks` more before its randomized election timeout
   * starts to count (a candidate: before it campaigns again). For the peers of many new
   * Regions at once, where one peer of each campaigns at once: if the timeouts ran as
   * usual, the others would campaign too while the first votes are still queued, and the
   * first candidates again, and every round would multiply the messages until no Region
   * elects. Hearing from a leader (or granting a vote) resets the count as usual, so the
   * wait ends with the election it made room for.
   */
  delayElection(ticks: number): void {
    if (this.state !== StateRole.Leader && this.lead === NONE)
      this.electionElapsed = Math.min(this.electionElapsed, -ticks);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Thesis §3.4: randomized timeouts in [electionTimeout, 2*electionTimeout). */
  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = (m) => this.stepFollower(m);
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.lead = lead;
    this.state = StateRole.Follower;
  }

  becomeCandidate(): void {
    invariant(this.state !== StateRole.Leader, 'invalid transition [leader -> candidate]');
    this.stepFn = (m) => this.stepCandidate(m);
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.vote = this.id;
    this.state = StateRole.Candidate;
  }

  /** Pre-candidates keep their term and vote: a pre-election changes nothing (§9.6). */
  becomePreCandidate(): void {
    invariant(this.state !== StateRole.Leader, 'invalid transition [leader -> pre-candidate]');
    this.stepFn = (m) => this.stepCandidate(m);
    this.trk.resetVotes();
    this.tickFn = () => this.tickElection();
    this.lead = NONE;
    this.state = StateRole.PreCandidate;
  }

  becomeLeader(): void {
    invariant(this.state !== StateRole.Follower, 'invalid transition [follower -> leader]');
    this.stepFn = (m) => this.stepLeader(m);
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.lead = this.id;
    this.state = StateRole.Leader;
    const pr = this.trk.progress.get(this.id)!;
    pr.becomeReplicate();
    pr.recentActive = true;
    // Conservatively assume the log's tail may hold an unapplied conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // A new leader appends an empty entry of its term: committing it commits every
    // earlier entry and lets reads be served (thesis §3.6.2, §6.4).
    const ok = this.appendEntry([
      { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) },
    ]);
    invariant(ok, 'empty entry was dropped');
    // The empty entry does not count toward the uncommitted size limit.
  }

  private hup(t: CampaignType): void {
    if (this.state === StateRole.Leader) return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return; // its config may not be ours yet
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    const hi = this.raftLog.committed + 1;
    if (lo >= hi) return false;
    return this.raftLog.slice(lo, hi, Infinity).some((e) => e.type === EntryType.ConfChange);
  }

  campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      // A pre-vote asks about the next term without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    for (const id of this.trk.voterNodes()) {
      if (id === this.id) {
        // Our own vote counts only once the vote is durable: it goes through
        // msgsAfterAppend and is stepped back in on advance.
        this.send(newMessage({ type: voteResponseType(voteMsg), to: id, term }));
        continue;
      }
      const m = newMessage({
        type: voteMsg,
        to: id,
        term,
        index: this.raftLog.lastIndex(),
        logTerm: this.raftLog.lastTerm(),
      });
      if (t === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    }
  }

  private poll(id: NodeId, v: boolean): VoteResult {
    this.trk.recordVote(id, v);
    return this.trk.tallyVotes().result;
  }

  // ---------------------------------------------------------------- step

  /** Feed one message (or local input) into the state machine. */
  step(m: Message): void {
    // Handle the message term first (thesis §3.3: a higher term always wins).
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = isCampaignTransfer(m.context);
        // Thesis §4.2.3: a server that heard from a leader within the minimum election
        // timeout ignores vote requests, so removed or partitioned servers cannot
        // disrupt a live leader. A leadership transfer is allowed through. A node in its
        // first election timeout after start may have heard from one just before it
        // stopped, and the leader's lease counts on that promise (§6.4): it refuses too.
        const inLease =
          this.checkQuorum &&
          ((this.lead !== NONE && this.electionElapsed < this.electionTimeout) ||
            this.startLeaseTicks > 0);
        if (!force && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; we move to it only if we win.
      } else if (
        m.type === MessageType.App ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snap
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === MessageType.Heartbeat || m.type === MessageType.App)
      ) {
        // A stale leader (e.g. just healed from a partition) would never learn of the
        // new term from us if we dropped its messages, since with check-quorum and
        // pre-vote we do not campaign against it. Answer so it steps down.
        this.send(newMessage({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        // Reject with our term so the pre-candidate learns it is behind.
        this.send(
          newMessage({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }),
        );
      }
      // Otherwise: an old message; ignore it.
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote: {
        // We can vote for m.from if we already did, or have not voted and know no leader
        // in this term; a pre-vote for a later term is always considered.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.PreVote && m.term > this.term);
        // Thesis §3.6.1 election restriction: only vote for an up-to-date log.
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // Grant with the term of the request, so a pre-candidate can count it.
          this.send(newMessage({ type: voteResponseType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.Vote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(
            newMessage({
              type: voteResponseType(m.type),
              to: m.from,
              term: this.term,
              reject: true,
            }),
          );
        }
        return;
      }
      default:
        this.stepFn(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        // Thesis §6.2: a leader that has not heard from a quorum within an election
        // timeout steps down, so clients find the real leader and leases stay safe.
        if (!this.trk.quorumActive()) this.becomeFollower(this.term, NONE);
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case MessageType.Prop:
        this.stepLeaderPropose(m);
        return;
      case MessageType.ReadIndex:
        // Thesis §6.4: until the leader has committed an entry of its own term it does
        // not know the true commit index; hold the read back until then. This holds for a
        // lone voter too: entries the previous leader committed with this node's ack
        // alone (under the same single-voter configuration) may be beyond our commit
        // index, so answering with it at once could miss an acknowledged write.
        // Reads also wait while a transfer runs and until its abandonment is committed
        // (see cancelLeaderTransfer): what confirms them would renew a leader lease.
        if (!this.readsAllowed()) {
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendReadIndexRequest(m);
        return;
    }

    const pr = this.trk.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.AppResp:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        // On failure, forget the snapshot and probe from match; on success probe from
        // after the snapshot. Either way wait for a heartbeat response before sending.
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.Unreachable:
        // Optimistic replication may have lost messages: probe again.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m, pr);
        return;
    }
  }

  private stepLeaderPropose(m: Message): void {
    invariant(m.entries.length > 0, () => `${this.id} stepped empty MsgProp`);
    if (!this.trk.progress.has(this.id)) {
      // Removed from the configuration while leading: do not take proposals.
      throw new ProposalDroppedError('this leader was removed from the configuration');
    }
    if (this.leadTransferee !== NONE) {
      throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
    }
    // A refused proposal appends nothing, so it must not leave pendingConfIndex pointing
    // at an index where no change was appended: that would refuse every later change
    // (§4.1) until some unrelated entry got applied past it.
    const prevPendingConfIndex = this.pendingConfIndex;
    try {
      for (let i = 0; i < m.entries.length; i++) {
        const e = m.entries[i]!;
        if (e.type !== EntryType.ConfChange) continue;
        this.checkConfChangeProposal(decodeConfChange(e.data));
        this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      }
      if (!this.appendEntry(m.entries)) {
        throw new UncommittedSizeExceededError(this.uncommittedSize, this.maxUncommittedSize);
      }
    } catch (e) {
      this.pendingConfIndex = prevPendingConfIndex;
      throw e;
    }
    this.bcastAppend();
  }

  /** Thesis §4.1: one configuration change at a time, and it must be valid now. */
  private checkConfChangeProposal(cc: ConfChange): void {
    if (this.pendingConfIndex > this.raftLog.applied) {
      throw new ProposalDroppedError(
        `a configuration change at index ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`,
      );
    }
    const joint = this.trk.config.voters.isJoint();
    const leave = isLeaveJoint(cc);
    if (joint && !leave) throw new ProposalDroppedError('must leave the joint configuration first');
    if (!joint && leave)
      throw new ProposalDroppedError('not in a joint configuration; nothing to leave');
    // Dry-run the change against the current configuration: an invalid change is
    // refused now rather than committed.
    try {
      this.computeConfChange(cc);
    } catch (e) {
      if (e instanceof ConfChangeError)
        throw new ProposalDroppedError(`invalid configuration change: ${e.message}`);
      throw e;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast backtracking (thesis §3.5 / etcd's findConflictByTerm): the follower says
      // where its log might agree with ours; skip our entries of terms it cannot have.
      let nextProbeIdx = m.rejectHint;
      if (m.logTerm > 0)
        nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    // In Probe state an ack equal to match still proves the follower's log matches.
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === ProgressState.Probe))
      return;
    switch (pr.state) {
      case ProgressState.Probe:
        pr.becomeReplicate();
        break;
      case ProgressState.Snapshot:
        // The follower caught up past the compacted prefix: resume appending.
        if (pr.match + 1 >= this.raftLog.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case ProgressState.Replicate:
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (m.from !== this.id && oldPaused) {
      // The follower was paused; now that the window opened, send what we have.
      this.sendAppend(m.from);
    }
    if (m.from !== this.id) {
      // Fill the inflight window with whatever else is waiting.
      while (this.maybeSendAppend(m.from, false)) {
        // keep sending
      }
    }
    // Transfer target caught up: tell it to campaign now.
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // The follower is alive: keep it supplied (and re-probe a paused one).
    if (pr.match < this.raftLog.lastIndex() || pr.state === ProgressState.Probe)
      this.sendAppend(m.from);
    if (this.readOnly.option !== ReadOnlyOption.Safe || !m.context || m.context.length === 0)
      return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks) return;
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    if (this.trk.config.voters.voteResult(votes) !== VoteResult.Won) return;
    for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
  }

  private handleTransferLeader(m: Message, pr: Progress): void {
    if (pr.isLearner) return; // a learner cannot lead
    const transferee = m.from;
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return; // same transfer already running
      this.cancelLeaderTransfer();
    }
    if (transferee === this.id) return; // already the leader
    // Thesis §3.10: the transfer must finish within an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) {
      this.sendTimeoutNow(transferee);
    } else {
      this.sendAppend(transferee); // catch it up first; TimeoutNow follows its ack
    }
  }

  /**
   * TimeoutNow names the leader's last entry when it was sent. The leader appends nothing
   * while a transfer runs and appends an entry when it abandons one, so the transferee
   * can tell a TimeoutNow of a transfer that has since ended: its log moved past it.
   */
  private sendTimeoutNow(to: NodeId): void {
    this.send(
      newMessage({
        type: MessageType.TimeoutNow,
        to,
        index: this.raftLog.lastIndex(),
        logTerm: this.raftLog.lastTerm(),
      }),
    );
  }

  /** Forget the transfer (leadership changes hands, or this node stops leading). */
  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /**
   * A leader abandons a transfer it started and goes on leading (timeout, another target,
   * the target left the configuration). Its TimeoutNow may still be in flight: delivered
   * late, it would make the target campaign past the followers' leases (§3.10 lets a
   * transfer break them) while this leader renews its lease. Followers cannot know the
   * transfer ended, and messages within a term may be reordered; only the log orders
   * them. So the abandonment goes into the log as an empty entry, and reads (whose
   * confirmations renew leases) wait until it is committed. From then on a stale
   * TimeoutNow cannot win: a target that has the entry ignores it (its log is past the
   * TimeoutNow's), and a target without it loses the vote of every holder of the entry
   * (§3.6.1), a quorum that intersects every quorum.
   */
  private cancelLeaderTransfer(): void {
    invariant(this.state === StateRole.Leader, 'only a leader cancels a transfer');
    if (this.leadTransferee === NONE) return;
    this.leadTransferee = NONE;
    const ok = this.appendEntry([
      { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) },
    ]);
    invariant(ok, 'empty entry was dropped');
    this.transferBarrierIndex = this.raftLog.lastIndex();
    this.bcastAppend();
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  /** A leader may confirm reads (thesis §6.4; no transfer running or abandoned unseen). */
  private readsAllowed(): boolean {
    return (
      this.committedEntryInCurrentTerm() &&
      this.leadTransferee === NONE &&
      this.raftLog.committed >= this.transferBarrierIndex
    );
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.readsAllowed()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexRequest(m);
  }

  private sendReadIndexRequest(m: Message): void {
    // A single voter needs no quorum round.
    if (this.trk.isSingleton()) {
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    switch (this.readOnly.option) {
      case ReadOnlyOption.Safe: {
        // Record the commit index now; answer once a quorum acks a heartbeat with ctx.
        const ctx = m.entries[0]!.data;
        this.readOnly.add(this.raftLog.committed, m);
        this.readOnly.recvAck(this.id, ctx);
        this.bcastHeartbeatWithCtx(ctx);
        return;
      }
      case ReadOnlyOption.LeaseBased:
        // Check-quorum guarantees no other leader exists within the lease.
        this.respondToReadIndex(m, this.raftLog.committed);
        return;
    }
  }

  private respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.entries[0]!.data });
      return;
    }
    this.send(
      newMessage({ type: MessageType.ReadIndexResp, to: req.from, index, entries: req.entries }),
    );
  }

  private stepCandidate(m: Message): void {
    const myVoteRespType =
      this.state === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        throw new ProposalDroppedError('no leader');
      case MessageType.ReadIndex:
        throw new ProposalDroppedError('no leader to serve the read');
      case MessageType.App:
        // Someone else won this term.
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteRespType: {
        const res = this.poll(m.from, !m.reject);
        if (res === VoteResult.Won) {
          if (this.state === StateRole.PreCandidate) {
            this.campaign(CampaignType.Election);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (res === VoteResult.Lost) {
          // A pre-candidate that lost returns to its term as a follower.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return; // TimeoutNow and others: ignored by candidates
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) throw new ProposalDroppedError('no leader');
        if (this.disableProposalForwarding)
          throw new ProposalDroppedError('proposal forwarding is disabled');
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) return; // no leader to forward to
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.TimeoutNow:
        // Only a TimeoutNow of a transfer still running: one sent before the leader
        // appended anything more (see cancelLeaderTransfer) names our last entry exactly.
        if (m.index !== this.raftLog.lastIndex() || m.logTerm !== this.raftLog.lastTerm()) return;
        // Transfers skip pre-vote: we know the leader is alive and wants us to win.
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) throw new ProposalDroppedError('no leader to serve the read');
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.ReadIndexResp:
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
      default:
        return;
    }
  }

  /** Thesis §3.5 AppendEntries receiver. */
  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Already committed here: tell the leader where we are.
      this.send(
        newMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }),
      );
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: lastNew }));
      return;
    }
    // Reject with a hint: the largest index <= m.index whose term is <= m.logTerm. The
    // leader skips straight there, so a divergent follower costs about one round trip
    // per term of divergence instead of one per entry.
    const hint = this.raftLog.findConflictByTerm(
      Math.min(m.index, this.raftLog.lastIndex()),
      m.logTerm,
    );
    this.send(
      newMessage({
        type: MessageType.AppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    const resp = newMessage({ type: MessageType.HeartbeatResp, to: m.from });
    if (m.context) resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    if (this.restore(s)) {
      this.send(
        newMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.lastIndex() }),
      );
    } else {
      this.send(
        newMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }),
      );
    }
  }

  /** Restore from a leader's snapshot; false if it is stale or we already have it. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateRole.Follower) {
      // Defensive: only followers receive snapshots; never let a leader rewind.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    const inConfig = [cs.voters, cs.learners, cs.votersOutgoing].some((ids) =>
      ids.includes(this.id),
    );
    if (!inConfig) return false; // a snapshot of a configuration without us: ignore it
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We have the entry already: just move the commit index forward.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    const restored = restoreConfig(
      cs,
      this.raftLog.lastIndex(),
      this.trk.maxInflight,
      this.trk.maxInflightBytes,
    );
    const got = this.switchToConfig(restored.config, restored.progress);
    assertConfStatesEquivalent(got, cs);
    const pr = this.trk.progress.get(this.id)!;
    pr.maybeUpdate(pr.next - 1); // match the snapshot index
    return true;
  }

  // ---------------------------------------------------------------- membership

  private computeConfChange(cc: ConfChange): { config: TrackerConfig; progress: ProgressMap } {
    const changer = new Changer(
      this.trk.config,
      this.trk.progress,
      this.raftLog.lastIndex(),
      this.trk.maxInflight,
      this.trk.maxInflightBytes,
    );
    if (isLeaveJoint(cc)) return changer.leaveJoint();
    const { joint, autoLeave } = jointKind(cc);
    return joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
  }

  /**
   * Apply a committed configuration change. Every node applies the same committed
   * changes in the same order, so a change that is invalid here is invalid everywhere
   * and is skipped by all (the leader refuses such proposals up front).
   */
  applyConfChange(cc: ConfChange): ConfState {
    let result;
    try {
      result = this.computeConfChange(cc);
    } catch (e) {
      if (e instanceof ConfChangeError) return this.trk.confState();
      throw e;
    }
    return this.switchToConfig(result.config, result.progress);
  }

  /** Install a configuration; a leader then commits/replicates under the new quorum. */
  private switchToConfig(config: TrackerConfig, progress: ProgressMap): ConfState {
    this.trk.config = config;
    this.trk.progress = progress;
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;

    if ((!pr || this.isLearner) && this.state === StateRole.Leader) {
      // Removed or demoted: stop leading, so the remaining voters elect a leader
      // among themselves (TiKV destroys such a peer anyway).
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== StateRole.Leader || cs.voters.length === 0) return cs;
    // The quorum changed: something may now be committed.
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else {
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    // A transfer to a node that is no longer a voter cannot finish.
    if (this.leadTransferee !== NONE && !this.trk.config.voters.has(this.leadTransferee))
      this.cancelLeaderTransfer();
    return cs;
  }
}

function assertConfStatesEquivalent(a: ConfState, b: ConfState): void {
  const norm = (ids: number[]) => [...ids].sort((x, y) => x - y).join(',');
  invariant(
    norm(a.voters) === norm(b.voters) &&
      norm(a.votersOutgoing) === norm(b.votersOutgoing) &&
      norm(a.learners) === norm(b.learners) &&
      norm(a.learnersNext) === norm(b.learnersNext) &&
      a.autoLeave === b.autoLeave,
    () => `restored configuration ${JSON.stringify(a)} differs from ${JSON.stringify(b)}`,
  );
}

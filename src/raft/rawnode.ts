// The application's handle on one Raft node (etcd/raft's RawNode). Inputs go in through
// tick/step/propose/...; the work they cause comes out as a Ready:
//
//   1. persist rd.entries, rd.hardState and rd.snapshot (one fsync for all of them);
//      rd.messages may be sent at once, even before that write;
//   2. after the write: send rd.persistedMessages (acks that promise durable state);
//   3. apply rd.committedEntries (calling applyConfChange for ConfChange entries);
//   4. call advance(rd).
//
// Or, with the write pipelined (etcd-io/raft's async storage writes): apply and call
// advanceApply(rd) at once, start the write, and take the next Ready before it is
// durable; once it is, send rd.persistedMessages and call advanceAppend(rd). Writes
// finish in the order their Readies were taken. committedEntries only ever holds
// entries already reported durable, so nothing is applied ahead of its own write.
import { decodeConfChange, encodeConfChange } from './confchange/index.js';
import { RaftConfig } from './config.js';
import {
  ProposalDroppedError,
  RaftError,
  UncommittedSizeExceededError,
  invariant,
} from './errors.js';
import { Raft } from './raft.js';
import { ProgressState, describeConfig } from './tracker/index.js';
import {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  ReadState,
  Snapshot,
  SoftState,
  StateRole,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  newMessage,
  payloadsSize,
} from './types.js';

export interface Ready {
  /** Present when the leader or role changed. Volatile; need not be persisted. */
  softState?: SoftState;
  /** Present when term, vote or commit changed: persist it with the entries. */
  hardState?: HardState;
  /** Linearizable read points that became known (see RawNode.readIndex). */
  readStates: ReadState[];
  /** Entries to append to stable storage (truncating any conflicting suffix). */
  entries: Entry[];
  /** A snapshot to persist and install (replaces the state machine). */
  snapshot?: Snapshot;
  /** Committed entries to apply, all durable on this node. */
  committedEntries: Entry[];
  /** Messages that may be sent right away. */
  messages: Message[];
  /** Messages to send only after entries/hardState/snapshot above are durable. */
  persistedMessages: Message[];
  /** Whether the write above needs an fsync (new entries, or term/vote changed). */
  mustSync: boolean;
}

export enum SnapshotStatus {
  Finish = 'Finish',
  Failure = 'Failure',
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  inflight: number;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  config: string;
  /** Present on the leader only. */
  progress?: Map<NodeId, ProgressStatus>;
}

export class RawNode {
  /** The state machine itself; exposed for tests and status, not for mutation. */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** Readies taken and not yet reported durable, oldest first, each with the messages
   * to self (our own append ack or vote) that count only once it is. */
  private readonly writing: { rd: Ready; selfSteps: Message[] }[] = [];
  /** The Ready taken and not yet applied: the next one must not hand out its entries again. */
  private applying: Ready | undefined = undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Campaign now (pre-vote first when enabled). */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /** See Raft.delayElection. */
  delayElection(ticks: number): void {
    this.raft.delayElection(ticks);
  }

  /** Propose a command. Throws ProposalDroppedError / UncommittedSizeExceededError. */
  propose(data: Uint8Array): void {
    this.proposeEntries([data]);
  }

  /** Propose several commands in one message (they are appended together). */
  proposeEntries(datas: Uint8Array[]): void {
    const entries: Entry[] = datas.map((data) => ({
      term: 0,
      index: 0,
      type: EntryType.Normal,
      data,
    }));
    this.raft.step(newMessage({ type: MessageType.Prop, from: this.raft.id, entries }));
  }

  proposeConfChange(cc: ConfChange): void {
    const entries: Entry[] = [
      { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) },
    ];
    this.raft.step(newMessage({ type: MessageType.Prop, from: this.raft.id, entries }));
  }

  /** Apply a committed ConfChange entry; returns the resulting configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Decode and apply a committed ConfChange entry. */
  applyConfChangeEntry(e: Entry): ConfState {
    invariant(e.type === EntryType.ConfChange, 'not a ConfChange entry');
    return this.applyConfChange(decodeConfChange(e.data));
  }

  /**
   * Feed a message received from a peer. Local message types are refused; a forwarded
   * proposal that cannot be taken is dropped (its sender times out and retries).
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new RaftError(`cannot step raft local message ${m.type}`);
    // Responses from peers we no longer track are meaningless.
    if (
      isResponseMessage(m.type) &&
      !this.raft.trk.progress.has(m.from) &&
      this.raft.state === StateRole.Leader
    )
      return;
    try {
      this.raft.step(m);
    } catch (e) {
      // Everything stepped here came from a peer (local proposals use propose()), so
      // a refused forwarded proposal is dropped, whatever its `from`: send() keeps the
      // sender a message already names, so a proposal this node made while a follower
      // can come back to it, forwarded by a node that thought this one led.
      if (e instanceof ProposalDroppedError) return;
      // A forwarded proposal refused because the leader's uncommitted-size cap is hit
      // is just as undeliverable: drop it (the client retries) instead of throwing the
      // leader's back-pressure at the transport that delivered the message.
      if (e instanceof UncommittedSizeExceededError) return;
      throw e;
    }
  }

  /**
   * Ask for a linearizable read point. The answer arrives as a ReadState with the same
   * ctx; reads of the state machine are safe once it has applied up to that index.
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(
      newMessage({
        type: MessageType.ReadIndex,
        entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx }],
      }),
    );
  }

  /** Try to make `transferee` the leader (thesis §3.10). */
  transferLeader(transferee: NodeId): void {
    this.raft.step(newMessage({ type: MessageType.TransferLeader, from: transferee }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step(
      newMessage({
        type: MessageType.SnapStatus,
        from: id,
        reject: status === SnapshotStatus.Failure,
      }),
    );
  }

  /** Whether ready() would return anything. */
  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.role !== this.prevSoftState.role) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    const u = r.raftLog.unstable;
    if (u.nextSnapshot()) return true;
    if (r.msgs.length > 0 || r.msgsAfterAppend.length > 0) return true;
    if (u.hasNextEntries() || r.raftLog.hasNextCommittedEnts()) return true;
    return r.readStates.length > 0;
  }

  /**
   * Collect the pending work. Call advance(rd) once it is done, or advanceApply(rd) and,
   * once its write is durable, advanceAppend(rd).
   */
  ready(): Ready {
    invariant(this.applying === undefined, 'ready() called again before the last was applied');
    const r = this.raft;
    const u = r.raftLog.unstable;
    const committedEntries = r.raftLog.nextCommittedEnts();
    const entries = u.nextEntries();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries,
      messages: r.msgs,
      persistedMessages: [],
      mustSync: entries.length > 0,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.role !== this.prevSoftState.role) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      if (hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote)
        rd.mustSync = true;
      this.prevHardState = hs;
    }
    const snapshot = u.nextSnapshot();
    if (snapshot) {
      rd.snapshot = snapshot;
      rd.mustSync = true;
    }
    u.acceptInProgress();
    const selfSteps: Message[] = [];
    for (const m of r.msgsAfterAppend) {
      if (m.to === r.id) selfSteps.push(m);
      else rd.persistedMessages.push(m);
    }
    r.msgs = [];
    r.msgsAfterAppend = [];
    r.readStates = [];
    this.writing.push({ rd, selfSteps });
    this.applying = rd;
    return rd;
  }

  /** The Ready was persisted, sent and applied: advanceApply and advanceAppend in one. */
  advance(rd: Ready): void {
    this.advanceApply(rd);
    this.advanceAppend(rd);
  }

  /** The Ready's committed entries (or snapshot) are applied. */
  advanceApply(rd: Ready): void {
    invariant(this.applying === rd, 'advanceApply() of a Ready that is not the last one taken');
    this.applying = undefined;
    const r = this.raft;
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1]!;
      r.appliedTo(last.index, payloadsSize(rd.committedEntries));
    } else if (rd.snapshot) {
      r.appliedTo(rd.snapshot.metadata.index, 0);
    }
  }

  /**
   * The Ready's entries, hard state and snapshot are durable (and so are every earlier
   * Ready's: writes finish in order), and its persistedMessages may go.
   */
  advanceAppend(rd: Ready): void {
    const w = this.writing.shift();
    invariant(w?.rd === rd, 'advanceAppend() out of order: not the oldest Ready being written');
    const r = this.raft;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    // Our own append ack and vote now rest on durable state: let them count.
    for (const m of w.selfSteps) r.step(m);
  }

  /** Readies taken whose writes are not yet reported durable. */
  get writesInProgress(): number {
    return this.writing.length;
  }

  status(): Status {
    const r = this.raft;
    const st: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      config: describeConfig(r.trk.config),
    };
    if (r.state === StateRole.Leader) {
      st.progress = new Map();
      for (const [id, pr] of r.trk.progress) {
        st.progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          inflight: pr.inflights.length,
        });
      }
    }
    return st;
  }
}

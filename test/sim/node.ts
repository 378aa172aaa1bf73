// One simulated node: a RawNode, its durable storage and its state machine, driven
// through the Ready contract of rawnode.ts with a model of a disk that is written and
// synced at different moments:
//
//   ready():  rd.messages leave at once; rd.entries/hardState/snapshot are "written"
//             to the page cache (kept in `rd`, not yet in storage) and a sync is
//             scheduled at a later simulated time;
//   sync:     the write becomes durable (it lands in `storage`), then rd.persistedMessages
//             are sent, committed entries applied, and advance() is called;
//   crash:    the unsynced write is lost with the process; the node restarts from
//             `storage` alone, its state machine rebuilt from the storage snapshot.
//
// Serial nodes take the next Ready after advance(). Pipelined nodes (the store's way,
// etcd-io/raft's async storage writes) apply a Ready's committed entries and call
// advanceApply() at once, then take the next Ready while earlier writes are still
// unsynced; a sync makes every write issued before it durable, in order (one fsync
// covers the file), and each such Ready's persistedMessages leave with advanceAppend().
// A Ready with a snapshot is installed at its sync, and no Ready is taken before it.
import {
  ConfState,
  EntryType,
  Message,
  NodeId,
  RaftConfig,
  RawNode,
  ReadState,
  Ready,
  SeededRand,
  Snapshot,
  Entry,
} from '../../src/raft/index.js';
import { SimRng } from './rng.js';
import { StateMachine } from './statemachine.js';
import { SimStorage } from './storage.js';

export type NodeConfig = Omit<RaftConfig, 'id' | 'storage' | 'rand' | 'applied'>;

/** What a node tells the cluster (network, disk scheduler, checker). */
export interface NodeHooks {
  send(node: SimNode, msgs: Message[]): void;
  /** Schedule the sync of the write the node just issued (its number, pipelined). */
  requestSync(node: SimNode, seq?: number): void;
  /** Entries just made durable (after any truncation they imply). */
  persisted(node: SimNode, entries: Entry[]): void;
  applied(node: SimNode, e: Entry): void;
  installed(node: SimNode, snap: Snapshot): void;
  confChanged(node: SimNode, index: number, cs: ConfState): void;
  readStates(node: SimNode, rss: ReadState[]): void;
}

export interface CompactionPolicy {
  /** Snapshot + compact once this many entries were applied since the last snapshot. */
  every: number;
  /** Keep up to this many entries below the snapshot (drawn per compaction). */
  keep: number;
}

export class SimNode {
  /** The durable state: exactly what survives a crash. */
  readonly storage: SimStorage;
  raw: RawNode | undefined = undefined;
  sm = new StateMachine();
  /** The configuration as of sm.index (what a snapshot at sm.index must carry). */
  confState: ConfState;
  /** Bumped on every start, so events of an earlier life (a sync, a snapshot report) are ignored. */
  incarnation = 0;
  /** Removed from the group and shut down for good. */
  destroyed = false;
  /** The outstanding Ready, its write (if any) not yet synced (serial nodes). */
  private rd: Ready | undefined = undefined;
  /** Pipelined nodes: Readies taken and not yet durable, oldest first; `seq` is the
   * write that makes each durable (a Ready with nothing to write waits for the last). */
  private writes: { rd: Ready; seq: number }[] = [];
  /** Pipelined nodes: writes issued, and the highest known durable (this life). */
  private writeSeq = 0;
  private syncedSeq = 0;
  /** Pipelined nodes: a Ready with a snapshot waits for its write to be installed. */
  private installing: Ready | undefined = undefined;

  constructor(
    readonly id: NodeId,
    private readonly cfg: NodeConfig,
    private readonly hooks: NodeHooks,
    private readonly rng: SimRng,
    private readonly compaction: CompactionPolicy | undefined,
    snapshotAlways: boolean,
    readonly pipelined = false,
  ) {
    this.storage = new SimStorage(snapshotAlways);
    this.storage.source = {
      current: () => ({ index: this.sm.index, cs: this.confState, data: this.sm.encode() }),
    };
    this.confState = this.storage.snapshot().metadata.confState;
  }

  get up(): boolean {
    return this.raw !== undefined;
  }

  /** A write is waiting for its sync. */
  get syncing(): boolean {
    return this.rd !== undefined || this.writes.length > 0;
  }

  /** Give a founding member its initial configuration (a snapshot at index 1, as etcd does). */
  bootstrap(cs: ConfState): void {
    this.storage.applySnapshot({
      data: new StateMachine(1).encode(),
      metadata: { index: 1, term: 1, confState: cs },
    });
  }

  /** (Re)start the process from durable storage. */
  start(): void {
    this.incarnation++;
    const snap = this.storage.snapshot();
    // A pipelined node applies (and may snapshot) entries whose commit index is still in
    // an unsynced write: what was applied was committed, so raise a stale commit to it,
    // as the store's PeerLoader does.
    const hs = this.storage.hardState;
    if (hs.commit < snap.metadata.index)
      this.storage.setHardState({ ...hs, commit: snap.metadata.index });
    this.sm = StateMachine.fromSnapshot(snap);
    this.confState = snap.metadata.confState;
    this.rd = undefined;
    this.writes = [];
    this.writeSeq = 0;
    this.syncedSeq = 0;
    this.installing = undefined;
    this.raw = new RawNode({
      ...this.cfg,
      id: this.id,
      storage: this.storage,
      // The state machine already holds everything up to the snapshot; storage may keep
      // a few entries below it, which must not be applied again.
      applied: snap.metadata.index,
      rand: new SeededRand(this.rng.derive()),
    });
  }

  /** Lose the process: volatile state and the unsynced write go; storage stays. */
  crash(): void {
    this.raw = undefined;
    this.rd = undefined;
    this.writes = [];
    this.installing = undefined;
    // The state machine is volatile too; start() rebuilds it from the durable snapshot.
    this.sm = new StateMachine();
  }

  /** Take the next Ready if none is outstanding. Returns whether one was taken. */
  pump(): boolean {
    if (this.pipelined) return this.pumpPipelined();
    const raw = this.raw;
    if (!raw || this.rd || !raw.hasReady()) return false;
    const rd = raw.ready();
    this.rd = rd;
    if (rd.readStates.length > 0) this.hooks.readStates(this, rd.readStates);
    // Step 1 of the contract: these need no durable state and may leave now.
    this.hooks.send(this, rd.messages);
    if (rd.entries.length > 0 || rd.hardState || rd.snapshot) this.hooks.requestSync(this);
    else this.complete(); // nothing to write: everything acked is durable already
    return true;
  }

  private pumpPipelined(): boolean {
    const raw = this.raw;
    if (!raw || this.installing || !raw.hasReady()) return false;
    const rd = raw.ready();
    if (rd.readStates.length > 0) this.hooks.readStates(this, rd.readStates);
    this.hooks.send(this, rd.messages);
    if (rd.entries.length > 0 || rd.hardState || rd.snapshot) {
      this.writes.push({ rd, seq: ++this.writeSeq });
      this.hooks.requestSync(this, this.writeSeq);
    } else {
      this.writes.push({ rd, seq: this.writeSeq });
    }
    if (rd.snapshot) {
      this.installing = rd;
    } else {
      // committedEntries are durable here already (the contract): apply without waiting.
      this.applyCommitted(rd);
      raw.advanceApply(rd);
      this.maybeCompact();
    }
    // Nothing of it to write and nothing before it unsynced: its acks are good now.
    if (this.writes.length === 1 && this.writes[0]!.seq <= this.syncedSeq) this.finishWrites();
    return true;
  }

  /** Pipelined nodes: every Ready whose write is durable — persist, ack, advanceAppend. */
  private finishWrites(): void {
    const raw = this.raw!;
    while (this.writes.length > 0 && this.writes[0]!.seq <= this.syncedSeq) {
      const { rd } = this.writes.shift()!;
      if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      this.hooks.persisted(this, rd.entries);
      this.hooks.send(this, rd.persistedMessages);
      if (rd === this.installing) {
        this.installing = undefined;
        this.applyCommitted(rd);
        raw.advanceApply(rd);
      }
      raw.advanceAppend(rd);
      this.maybeCompact();
    }
  }

  /** The disk reports the write durable. Stale syncs (from before a crash) are ignored. */
  sync(incarnation: number, seq = 0): void {
    if (this.pipelined) {
      if (incarnation !== this.incarnation || !this.raw) return;
      this.syncedSeq = Math.max(this.syncedSeq, seq);
      this.finishWrites();
      return;
    }
    const rd = this.rd;
    if (incarnation !== this.incarnation || !rd || !this.raw) return;
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    this.hooks.persisted(this, rd.entries);
    this.complete();
  }

  /** Steps 2–4 of the contract, once rd's write is durable. */
  private complete(): void {
    const rd = this.rd!;
    const raw = this.raw!;
    this.hooks.send(this, rd.persistedMessages);
    this.applyCommitted(rd);
    this.rd = undefined;
    raw.advance(rd);
    this.maybeCompact();
  }

  /** Install rd's snapshot, then apply its committed entries. */
  private applyCommitted(rd: Ready): void {
    const raw = this.raw!;
    if (rd.snapshot) {
      this.sm = StateMachine.fromSnapshot(rd.snapshot);
      this.confState = rd.snapshot.metadata.confState;
      this.hooks.installed(this, rd.snapshot);
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) {
        this.confState = raw.applyConfChangeEntry(e);
        this.hooks.confChanged(this, e.index, this.confState);
      }
      this.sm.apply(e, this.id);
      this.hooks.applied(this, e);
    }
  }

  /**
   * Log compaction as an application does it: snapshot the state machine at the applied
   * index, then drop the log below it (keeping a few entries so that slightly lagging
   * followers can still be served appends).
   */
  private maybeCompact(): void {
    const p = this.compaction;
    if (!p) return;
    const applied = this.sm.index;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (applied - snapIndex < p.every) return;
    this.storage.createSnapshot(applied, this.confState, this.sm.encode());
    const to = applied - this.rng.int(0, p.keep);
    if (to >= this.storage.firstIndex()) this.storage.compact(to);
  }
}

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
// Only one Ready is outstanding at a time: the next one is taken after advance().
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
  /** Schedule the sync of the write the node just issued. */
  requestSync(node: SimNode): void;
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
  /** The outstanding Ready, its write (if any) not yet synced. */
  private rd: Ready | undefined = undefined;

  constructor(
    readonly id: NodeId,
    private readonly cfg: NodeConfig,
    private readonly hooks: NodeHooks,
    private readonly rng: SimRng,
    private readonly compaction: CompactionPolicy | undefined,
    snapshotAlways: boolean,
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
    return this.rd !== undefined;
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
    this.sm = StateMachine.fromSnapshot(snap);
    this.confState = snap.metadata.confState;
    this.rd = undefined;
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
    // The state machine is volatile too; start() rebuilds it from the durable snapshot.
    this.sm = new StateMachine();
  }

  /** Take the next Ready if none is outstanding. Returns whether one was taken. */
  pump(): boolean {
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

  /** The disk reports the write durable. Stale syncs (from before a crash) are ignored. */
  sync(incarnation: number): void {
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
    this.rd = undefined;
    raw.advance(rd);
    this.maybeCompact();
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

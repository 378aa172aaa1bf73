// A synchronous, in-memory cluster of RawNodes for Raft scenario tests. Every node
// persists into a MemoryStorage and goes through the full Ready/advance cycle, so the
// durability rule (acks only after persistence) is exercised by every scenario.
import {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  MemoryStorage,
  Message,
  MessageType,
  NodeId,
  RawNode,
  RaftConfig,
  ReadState,
  Ready,
  SeededRand,
  StateRole,
  emptyConfState,
} from '../../src/raft/index.js';

export interface NodeOptions extends Partial<Omit<RaftConfig, 'id' | 'storage' | 'rand'>> {
  /** Skip the ConfState bootstrap (for a node that joins by snapshot). */
  empty?: boolean;
  learners?: NodeId[];
}

export class TestNode {
  readonly storage = new MemoryStorage();
  node!: RawNode;
  /** Committed entries this node applied, in order (empty entries included). */
  applied: Entry[] = [];
  readStates: ReadState[] = [];
  confState: ConfState = emptyConfState();

  constructor(
    readonly id: NodeId,
    private readonly cfg: Omit<RaftConfig, 'storage'>,
  ) {}

  /**
   * Create the node from its storage. `fresh` marks the very first start of a node of a
   * cluster that never ran: it cannot have acknowledged a leader yet, so unless the test
   * asks otherwise it skips the start-up lease guard (RaftConfig.refuseVotesOnStart) and
   * votes at once, as the scenarios taken from etcd/raft expect. Every later start (a
   * restart) keeps the guard, as production does.
   */
  start(fresh = false): void {
    const guard =
      fresh && this.cfg.refuseVotesOnStart === undefined ? { refuseVotesOnStart: false } : {};
    this.node = new RawNode({
      ...this.cfg,
      ...guard,
      storage: this.storage,
      applied: this.storage.initialState().hardState.commit ? this.appliedIndex() : 0,
    });
  }

  /** Write a Ready to storage and apply its committed entries (no messages, no advance). */
  persist(rd: Ready): void {
    if (rd.snapshot) {
      this.storage.applySnapshot(rd.snapshot);
      this.confState = rd.snapshot.metadata.confState;
      this.applied = [];
    }
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) this.confState = this.node.applyConfChangeEntry(e);
      this.applied.push(e);
    }
  }

  appliedIndex(): number {
    return this.applied.length > 0
      ? this.applied[this.applied.length - 1]!.index
      : this.storage.snapshot().metadata.index;
  }

  get raft() {
    return this.node.raft;
  }

  get state(): StateRole {
    return this.node.raft.state;
  }

  get term(): number {
    return this.node.raft.term;
  }

  /** Applied normal entries with data, decoded as strings. */
  appliedData(): string[] {
    return this.applied
      .filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => Buffer.from(e.data).toString());
  }
}

export interface ClusterOptions extends NodeOptions {
  seed?: number;
}

/**
 * A cluster with a message queue. Messages are delivered in FIFO order by stabilize();
 * filters drop or isolate traffic; `ready` drives every node's Ready loop.
 */
export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages in flight. */
  queue: Message[] = [];
  private dropFilters: ((m: Message) => boolean)[] = [];
  private cut = new Set<string>();
  private isolated = new Set<NodeId>();
  private readonly rand: SeededRand;
  /** Optional observer of every Ready, called before it is persisted or sent. */
  onReady?: (id: NodeId, rd: Ready) => void;

  constructor(
    ids: NodeId[],
    private readonly opts: ClusterOptions = {},
  ) {
    this.rand = new SeededRand(opts.seed ?? 1);
    for (const id of ids) this.addNode(id, opts.empty ? { ...opts, empty: true } : opts, ids);
  }

  /** Add (and start) a node; `voters` seeds its initial ConfState unless empty. */
  addNode(id: NodeId, opts: NodeOptions = this.opts, voters: NodeId[] = []): TestNode {
    const { empty, learners, ...raftOpts } = opts;
    const n = new TestNode(id, {
      id,
      rand: new SeededRand(this.rand.intn(2 ** 31) + id),
      ...raftOpts,
    });
    if (!empty) {
      // Bootstrap: a snapshot at index 1 that carries the initial configuration.
      n.storage.applySnapshot({
        data: new Uint8Array(0),
        metadata: {
          index: 1,
          term: 1,
          confState: { ...emptyConfState(), voters, learners: learners ?? [] },
        },
      });
      n.confState = n.storage.snapshot().metadata.confState;
    }
    n.start(true);
    this.nodes.set(id, n);
    return n;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  leader(): TestNode | undefined {
    let best: TestNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.state === StateRole.Leader && (!best || n.term > best.term)) best = n;
    }
    return best;
  }

  /** Drop every message matching f (until clearFilters). */
  drop(f: (m: Message) => boolean): void {
    this.dropFilters.push(f);
  }

  /** Drop messages of a type from→to (0 matches any). */
  dropType(type: MessageType, from = 0, to = 0): void {
    this.drop(
      (m) => m.type === type && (from === 0 || m.from === from) && (to === 0 || m.to === to),
    );
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  /** Cut only a → b. */
  cutOneWay(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`);
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Split into two groups that cannot talk to each other. */
  partition(a: NodeId[], b: NodeId[]): void {
    for (const x of a) for (const y of b) this.cutLink(x, y);
  }

  heal(): void {
    this.cut.clear();
    this.isolated.clear();
    this.dropFilters = [];
  }

  private blocked(m: Message): boolean {
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return true;
    if (this.cut.has(`${m.from}-${m.to}`)) return true;
    return this.dropFilters.some((f) => f(m));
  }

  /** Run one Ready cycle on node id: persist, queue messages, apply, advance. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.node.hasReady()) return false;
    const rd = n.node.ready();
    this.onReady?.(id, rd);
    // Messages that need no durable state may leave before the write.
    for (const m of rd.messages) this.queue.push(m);
    n.persist(rd);
    for (const m of rd.persistedMessages) this.queue.push(m);
    for (const rs of rd.readStates) n.readStates.push(rs);
    n.node.advance(rd);
    return true;
  }

  /** Deliver messages and process Readies until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of [...this.nodes.keys()]) if (this.processReady(id)) moved = true;
      if (this.queue.length > 0) {
        moved = true;
        const q = this.queue;
        this.queue = [];
        for (const m of q) this.deliver(m);
      }
      if (!moved) return;
    }
    throw new Error('cluster did not stabilize');
  }

  deliver(m: Message): void {
    if (this.blocked(m)) return;
    const n = this.nodes.get(m.to);
    if (!n) return;
    n.node.step(m);
  }

  /** Tick node id `times` times, stabilizing after each tick. */
  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).node.tick();
      this.stabilize();
    }
  }

  /** Tick every node `times` times, stabilizing after each round. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.node.tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).node.campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string): void {
    this.node(id).node.propose(Buffer.from(data));
    this.stabilize();
  }

  /** Crash and restart a node: unsynced state is already lost (everything acked was persisted). */
  restart(id: NodeId): TestNode {
    const old = this.node(id);
    old.start();
    return old;
  }
}

// ---------------------------------------------------------------- scenario helpers
// Standalone helpers (they add to the Cluster API without changing it).

/**
 * A cluster whose bootstrap configuration has `voters` and `learners`; every node, the
 * learners included, starts from the same bootstrap snapshot.
 */
export function clusterWithLearners(
  voters: NodeId[],
  learners: NodeId[],
  opts: ClusterOptions = {},
): Cluster {
  const c = new Cluster(voters, { ...opts, learners });
  for (const id of learners) c.addNode(id, { ...opts, learners }, voters);
  return c;
}

/**
 * Record every message the cluster hands to deliver(), including those its filters
 * then drop. Returns the live list.
 */
export function traceMessages(c: Cluster): Message[] {
  const log: Message[] = [];
  const deliver = c.deliver.bind(c);
  c.deliver = (m: Message) => {
    log.push(m);
    deliver(m);
  };
  return log;
}

/**
 * Snapshot node id's state machine at `index` (default: its applied index) with its
 * current configuration, and discard the log up to there, as an application does to
 * bound its log. Followers that need the discarded entries must then get a snapshot.
 */
export function compactLog(c: Cluster, id: NodeId, index?: number): number {
  const n = c.node(id);
  const at = index ?? n.appliedIndex();
  n.storage.createSnapshot(at, n.confState, Buffer.from(n.appliedData().join(',')));
  n.storage.compact(at);
  return at;
}

/** Propose a configuration change on node id and let the cluster settle. */
export function proposeConfChange(c: Cluster, id: NodeId, cc: ConfChange): void {
  c.node(id).node.proposeConfChange(cc);
  c.stabilize();
}

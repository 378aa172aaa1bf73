// Creating and reloading Region peers: the on-disk state a peer starts from, and the
// repair of the one inconsistency a crash can leave between the Raft log and a Region
// engine (a snapshot installed in the engine whose log record did not land yet).
import {
  ConfState,
  Snapshot,
  SnapshotTemporarilyUnavailableError,
  emptyConfState,
} from '../raft/index.js';
import { PeerRole, Region, findPeerOnStore } from '../region/meta.js';
import { RaftLogEngine } from '../storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../storage/raft_log_batch.js';
import { RegionEngine } from '../storage/region_engine.js';
import { RegionEnginePool } from '../storage/region_engine_pool.js';
import { describeSnapshot, encodeSnapshotDescriptor } from '../storage/region_snapshot.js';
import { NO_OBSERVER, PeerConfig, PeerObserver, RegionPeer } from './peer.js';
import { NODE_RUNTIME, StoreRuntime } from './runtime.js';

/**
 * Index and term a newly created Region starts its log at (TiKV's RAFT_INIT_LOG_INDEX):
 * every replica of a bootstrapped Region starts from the same state, as if it had applied
 * a snapshot at this index, so they can elect a leader without any snapshot transfer.
 */
export const INITIAL_LOG_INDEX = 5;
export const INITIAL_LOG_TERM = 5;

/** The Raft configuration that a Region's peer list describes. */
export function confStateOf(region: Region): ConfState {
  return {
    ...emptyConfState(),
    voters: region.peers.filter((p) => p.role === PeerRole.Voter).map((p) => p.id),
    learners: region.peers.filter((p) => p.role === PeerRole.Learner).map((p) => p.id),
  };
}

export class PeerLoader {
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

  /** Write the initial state of a peer of a Region created by bootstrap; returns the peer. */
  createInitialPeer(region: Region): RegionPeer {
    const me = findPeerOnStore(region, this.storeId);
    if (!me) throw new Error(`region ${region.id} has no peer on store ${this.storeId}`);
    const engine = this.engines.get(region.id);
    engine.writeState({
      region: { region, tombstone: false },
      apply: { appliedIndex: INITIAL_LOG_INDEX, appliedTerm: INITIAL_LOG_TERM },
    });
    const batch = new RaftLogWriteBatch()
      .applySnapshot(region.id, {
        index: INITIAL_LOG_INDEX,
        term: INITIAL_LOG_TERM,
        confState: confStateOf(region),
      })
      .setHardState(region.id, { term: INITIAL_LOG_TERM, vote: 0, commit: INITIAL_LOG_INDEX });
    this.logEngine.write(batch);
    return this.open(region, me.id, engine);
  }

  /** Every peer this store hosted before a restart (tombstones excluded). */
  loadAll(): RegionPeer[] {
    const ids = new Set([...this.engines.regionIdsOnDisk(), ...this.logEngine.regionIds()]);
    const peers: RegionPeer[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      const engine = this.engines.get(id);
      const local = engine.exists() ? engine.regionState() : undefined;
      if (!local || local.tombstone) continue;
      const me = findPeerOnStore(local.region, this.storeId);
      if (!me) continue;
      this.reconcile(engine, local.region);
      peers.push(this.open(local.region, me.id, engine));
    }
    return peers;
  }

  /**
   * The engine may be ahead of the log: a received snapshot is installed in the engine
   * before its record is written to the log (never the other way round). Then record it.
   */
  private reconcile(engine: RegionEngine, region: Region): void {
    const apply = engine.applyState();
    const view = this.logEngine.has(region.id) ? this.logEngine.region(region.id) : undefined;
    const hs = view?.initialState().hardState;
    if (view && view.lastIndex() >= apply.appliedIndex) {
      // The commit index is written lazily (raft_store.ts): what was applied was
      // committed, so raise a stale one to the apply index.
      if (hs && hs.commit < apply.appliedIndex) {
        this.logEngine.write(
          new RaftLogWriteBatch().setHardState(region.id, { ...hs, commit: apply.appliedIndex }),
        );
      }
      return;
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

  private open(region: Region, peerId: number, engine: RegionEngine): RegionPeer {
    const view = this.logEngine.region(region.id);
    let peer: RegionPeer | undefined = undefined;
    // Raft's configuration comes from the Region meta, which the engine keeps current.
    view.confStateProvider = () => confStateOf(peer ? peer.region : region);
    view.setSnapshotBuilder(() => buildSnapshot(engine, peer ? peer.region : region));
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

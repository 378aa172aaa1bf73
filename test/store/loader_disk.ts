// One store's disk for tests of the peer loader and what it replays: the Raft log engine
// and the Region engines of a data dir, a PeerLoader over them, and restarts that keep
// only what SQLite committed (the process dies, the files stay).
import { RaftLogEngine } from '../../src/storage/raft_log_engine.js';
import { RegionEnginePool } from '../../src/storage/region_engine_pool.js';
import type { RegionPeer } from '../../src/store/peer.js';
import { PeerLoader } from '../../src/store/peer_loader.js';
import { TEST_PEER_CONFIG } from './cluster_harness.js';

export class LoaderDisk {
  logEngine!: RaftLogEngine;
  engines!: RegionEnginePool;
  loader!: PeerLoader;

  constructor(
    readonly dir: string,
    readonly storeId = 1,
  ) {
    this.open();
  }

  open(): void {
    this.logEngine = RaftLogEngine.open(this.dir);
    this.engines = new RegionEnginePool(this.dir);
    this.loader = new PeerLoader(
      this.storeId,
      this.logEngine,
      this.engines,
      { ...TEST_PEER_CONFIG, storeId: this.storeId },
      () => 0,
    );
  }

  /** The process dies: what SQLite committed stays, nothing else. */
  close(): void {
    this.engines.closeAll();
    this.logEngine.close();
  }

  restart(): RegionPeer[] {
    this.close();
    this.open();
    return this.loader.loadAll();
  }
}

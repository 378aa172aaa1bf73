// A store restarting on a data dir left by a crash in the middle of creating the peers of
// the Regions PD bootstrapped on it (some created, one with an empty engine file, one
// missing): once start() returns, it hosts every one of them. The real StoreServer runs
// on loopback; PD is a fake that answers what the store asks of it at startup.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Peer, PeerRole, Region } from '../../src/region/meta.js';
import { RaftLogEngine } from '../../src/storage/raft_log_engine.js';
import { RegionEnginePool } from '../../src/storage/region_engine_pool.js';
import { PeerLoader } from '../../src/store/peer_loader.js';
import { writeIdent } from '../../src/store/store_ident.js';
import {
  DEFAULT_PD_WORKER_CONFIG,
  DEFAULT_PEER_CONFIG,
  StoreRegistrar,
  StoreServer,
} from '../../src/server/store_server.js';
import { tempDir } from '../storage/tmp.js';

const CLUSTER = 7;
const STORE = 1;

function region(id: number): Region {
  return {
    id,
    startKey: Buffer.from(id === 1 ? '' : `k${id}`),
    endKey: Buffer.from(id === 3 ? '' : `k${id + 1}`),
    epoch: { confVer: 1, version: 1 },
    peers: [1, 2, 3].map((s) => ({ id: 100 * id + s, storeId: s, role: PeerRole.Voter })),
  };
}

/** PD as far as a starting store needs it: its Regions are the bootstrapped ones. */
class FakePd implements StoreRegistrar {
  scans = 0;
  registered: number[] = [];
  constructor(private readonly regions: Region[]) {}
  getClusterId(): Promise<number> {
    return Promise.resolve(CLUSTER);
  }
  allocId(): Promise<number> {
    return Promise.reject(new Error('the store has an id already'));
  }
  putStore(store: { id: number }): Promise<void> {
    this.registered.push(store.id);
    return Promise.resolve();
  }
  getStoreAddress(): Promise<string> {
    return Promise.resolve('127.0.0.1:1'); // the other stores are down
  }
  storeHeartbeat(): Promise<{ requireRegionHeartbeats: boolean }> {
    return Promise.resolve({ requireRegionHeartbeats: false });
  }
  regionHeartbeat(_hb: { region: Region; leader: Peer; term: number }): void {}
  scanRegions(): Promise<{ region: Region }[]> {
    this.scans++;
    return Promise.resolve(this.regions.map((r) => ({ region: r })));
  }
}

function newServer(dataDir: string, pd: FakePd): StoreServer {
  return new StoreServer(
    {
      dataDir,
      addr: '127.0.0.1:0',
      statusAddr: '127.0.0.1:0',
      peer: { ...DEFAULT_PEER_CONFIG, storeId: 0 },
      pdWorker: DEFAULT_PD_WORKER_CONFIG,
      maxOpenRegionEngines: 16,
    },
    pd,
    pino({ level: 'silent' }),
  );
}

function hostedRegions(s: StoreServer): number[] {
  const st = s.status() as { peers: { region: number }[] };
  return st.peers.map((p) => p.region).sort((a, b) => a - b);
}

describe('store startup after a crash during bootstrap', () => {
  test('creates the bootstrapped peers it lacks before it serves', async (t) => {
    const dir = tempDir(t);
    const regions = [region(1), region(2), region(3)];
    writeIdent(dir, { storeId: STORE, clusterId: CLUSTER });
    // The state the crash left: region 1 created, region 2's engine file opened but
    // empty, region 3 not started.
    const logEngine = RaftLogEngine.open(dir);
    const engines = new RegionEnginePool(dir);
    const loader = new PeerLoader(
      STORE,
      logEngine,
      engines,
      { ...DEFAULT_PEER_CONFIG, storeId: STORE },
      () => 0,
    );
    loader.createInitialPeer(regions[0]!);
    engines.get(2).count('raw');
    engines.closeAll();
    logEngine.close();

    const pd = new FakePd(regions);
    const server = newServer(dir, pd);
    await server.start();
    t.after(() => server.stop());
    assert.deepEqual(pd.registered, [STORE]);
    assert.deepEqual(hostedRegions(server), [1, 2, 3]);
    assert.equal(pd.scans >= 1, true);
    await server.stop();

    // And they are on disk: a second restart loads all three without asking.
    const again = newServer(dir, new FakePd([]));
    await again.start();
    t.after(() => again.stop());
    assert.deepEqual(hostedRegions(again), [1, 2, 3]);
  });
});

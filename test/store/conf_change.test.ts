// Membership changes through the real store loop, engines and snapshots of three (then
// four) stores in one process (the transport below is in memory): a learner created from
// a message gets a snapshot, is promoted and leads; a removed replica destroys itself and
// its tombstone stops late messages; a destroy cut short by a crash finishes on restart.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ConfChangeType, MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { regionDbPath } from '../../src/storage/paths.js';
import { LocalNetwork, TestStore } from './cluster_harness.js';

const REGION = 1;

async function until<T>(what: string, f: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('conf change apply and destroy in the store loop', () => {
  const net = new LocalNetwork([1, 2, 3, 4]);
  after(() => net.close());
  const s = (id: number) => net.stores.get(id)!;
  const peerOf = (store: number) => s(store).store.peers.get(REGION);
  const leader = async () => (await net.waitForLeader(REGION)).leaderOf(REGION)!;

  test('a learner on a new store: created from a message, snapshot, promoted, leads', async () => {
    for (const st of net.stores.values()) st.open();
    const region: Region = {
      id: REGION,
      startKey: Buffer.alloc(0),
      endKey: Buffer.alloc(0),
      epoch: { confVer: 1, version: 1 },
      peers: [1, 2, 3].map((id) => ({ id: 100 + id, storeId: id, role: PeerRole.Voter })),
    };
    for (const id of [1, 2, 3]) s(id).store.addPeer(s(id).loader.createInitialPeer(region));
    const l = await net.waitForLeader(REGION);
    for (let i = 0; i < 20; i++)
      await l.kv.put(
        { regionId: REGION, epoch: region.epoch },
        Buffer.from(`k${i}`),
        Buffer.from(`v${i}`),
      );

    const p = await leader();
    p.proposeConfChange([{ peer: { id: 104, storeId: 4 }, type: ConfChangeType.AddLearnerNode }]);
    await until('the learner has the region', () => peerOf(4)?.isInitialized());
    assert.deepEqual(
      peerOf(4)!.region.peers.find((x) => x.id === 104),
      { id: 104, storeId: 4, role: PeerRole.Learner },
    );
    await until('conf_ver 2 everywhere', () =>
      [1, 2, 3, 4].every((id) => peerOf(id)?.region.epoch.confVer === 2),
    );
    assert.ok(net.snapshotsSent >= 1);
    // The meta is durable with the apply index: what the engine holds is the new Region.
    assert.equal(s(2).engines.get(REGION).regionState()!.region.epoch.confVer, 2);

    // A learner may not be removed while it is the... leader may not remove itself:
    const lp = await leader();
    assert.throws(
      () =>
        lp.proposeConfChange([
          {
            peer: {
              id: lp.peerId,
              storeId: lp.region.peers.find((x) => x.id === lp.peerId)!.storeId,
            },
            type: ConfChangeType.RemoveNode,
          },
        ]),
      /transfer leadership/,
    );
    assert.throws(() => lp.transferLeader(104, 1000), /not a voter|Learner/);

    await until('learner caught up', () => lp.pendingPeers().length === 0);
    lp.proposeConfChange([{ peer: { id: 104, storeId: 4 }, type: ConfChangeType.AddNode }]);
    await until('promoted everywhere', () =>
      [1, 2, 3, 4].every(
        (id) => peerOf(id)?.region.peers.find((x) => x.id === 104)?.role === PeerRole.Voter,
      ),
    );
    const lp2 = await leader();
    lp2.transferLeader(104, 1000);
    await until('store 4 leads', () => s(4).leaderOf(REGION));
    for (let i = 0; i < 20; i++)
      assert.equal(
        (
          await s(4).kv.get(
            { regionId: REGION, epoch: peerOf(4)!.region.epoch },
            Buffer.from(`k${i}`),
          )
        )?.toString(),
        `v${i}`,
      );
  });

  test('a removed replica destroys itself; its tombstone stops a late message', async () => {
    // Leadership away from store 3, then remove it.
    const lp = await leader();
    if (lp.peerId === 103) {
      lp.transferLeader(101, 1000);
      await until('store 1 leads', () => s(1).leaderOf(REGION));
    }
    const l2 = await leader();
    l2.proposeConfChange([{ peer: { id: 103, storeId: 3 }, type: ConfChangeType.RemoveNode }]);
    await until('store 3 destroyed its replica', () => peerOf(3) === undefined);
    const file = regionDbPath(s(3).dir, REGION);
    assert.equal(fs.existsSync(file), false);
    const t = s(3).logEngine.tombstone(REGION);
    assert.ok(t && t.confVer >= 4, `tombstone ${JSON.stringify(t)}`);
    assert.equal(t.peerId, 103, 'the tombstone names the destroyed peer');
    assert.equal(t.appliedEnd, true, 'it applied its own removal');
    // A heartbeat of an old epoch from the old leader must not create the peer again.
    s(3).store.onRaftMessage({
      regionId: REGION,
      fromPeer: { id: 101, storeId: 1, role: PeerRole.Voter },
      toPeer: { id: 103, storeId: 3, role: PeerRole.Voter },
      epoch: { confVer: 3, version: 1 },
      message: newMessage({ type: MessageType.Heartbeat, from: 101, to: 103, term: 9, commit: 0 }),
    });
    assert.equal(peerOf(3), undefined);
    // The others go on without it.
    const l3 = await leader();
    assert.deepEqual(l3.region.peers.map((x) => x.id).sort(), [101, 102, 104]);
  });

  test('a destroy cut short by a crash finishes on restart', async () => {
    // Store 2's replica: its Region file says it is no longer a member (the removal was
    // applied), but the crash came before the tombstone: restart finishes the destroy.
    const st: TestStore = s(2);
    const local = st.engines.get(REGION).regionState()!;
    st.crash();
    const { RegionEnginePool } = await import('../../src/storage/region_engine_pool.js');
    const pool = new RegionEnginePool(st.dir);
    const gone = {
      ...local.region,
      epoch: { ...local.region.epoch, confVer: local.region.epoch.confVer + 1 },
      peers: local.region.peers.filter((x) => x.storeId !== 2),
    };
    pool.get(REGION).writeState({ region: { region: gone, tombstone: false } });
    pool.closeAll();
    st.open();
    assert.equal(st.store.peers.has(REGION), false);
    assert.equal(fs.existsSync(path.join(st.dir, 'regions', `${REGION}.sqlite`)), false);
    assert.equal(st.logEngine.tombstone(REGION)?.confVer, gone.epoch.confVer);
  });
});

describe('a destroy cut short after its tombstone', () => {
  test('restart deletes the Region file the tombstone covers', async () => {
    const net = new LocalNetwork([1]);
    try {
      const st = net.stores.get(1)!;
      st.open();
      const region = net.bootstrapRegion(5);
      st.crash();
      // Step 1 of peer_destroy.ts done (tombstone + log gone), the file still there.
      const { RaftLogEngine } = await import('../../src/storage/raft_log_engine.js');
      const { RaftLogWriteBatch } = await import('../../src/storage/raft_log_batch.js');
      const log = RaftLogEngine.open(st.dir);
      const peerId = region.peers.find((p) => p.storeId === 1)!.id;
      const tombstone = { ...region.epoch, peerId, appliedEnd: true };
      log.write(new RaftLogWriteBatch().tombstone(5, tombstone).destroyRegion(5));
      log.close();
      assert.ok(fs.existsSync(regionDbPath(st.dir, 5)));
      st.open();
      assert.equal(st.store.peers.has(5), false);
      assert.equal(fs.existsSync(regionDbPath(st.dir, 5)), false);
    } finally {
      net.close();
    }
  });
});

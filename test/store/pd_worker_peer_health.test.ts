// What a leader's Region heartbeat says of its peers (pd_worker.ts report, recheckPeerHealth)
// and the store's gauges of them, on a fake clock. The layer below the PD worker — the hosted
// peers and PD — is faked: a leader with a real PeerLiveness, a PD that records heartbeats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PdWorker, type StorePd } from '../../src/store/pd_worker.js';
import { PeerLiveness } from '../../src/store/peer_liveness.js';
import { StoreClusterConfig } from '../../src/store/cluster_config.js';
import { countUnhealthyPeers } from '../../src/store/peer_health_metrics.js';
import type { RaftStore } from '../../src/store/raft_store.js';
import { RegionFlow } from '../../src/store/region_flow.js';
import type { RegionPeer } from '../../src/store/peer.js';
import { StateRole } from '../../src/raft/index.js';
import { PeerRole, type Peer, type Region } from '../../src/region/meta.js';

const peer = (id: number): Peer => ({ id, storeId: id, role: PeerRole.Voter });

/** A hosted Region peer as the PD worker sees it: leader of region 7 as peer 1. */
class FakeLeader {
  readonly regionId = 7;
  readonly peerId = 1;
  term = 3;
  leading = true;
  pending: Peer[] = [];
  readonly sizeEstimate = undefined;
  readonly region: Region = {
    id: 7,
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    epoch: { confVer: 1, version: 1 },
    peers: [peer(1), peer(2), peer(3)],
  };
  readonly liveness = new PeerLiveness(() => (this.leading ? this.term : undefined));
  get node() {
    return {
      raft: { term: this.term, state: this.leading ? StateRole.Leader : StateRole.Follower },
    };
  }
  isLeader(): boolean {
    return this.leading;
  }
  peerById(id: number): Peer | undefined {
    return this.region.peers.find((p) => p.id === id);
  }
  pendingPeers(): Peer[] {
    return this.pending;
  }
}

type Heartbeat = Parameters<StorePd['regionHeartbeat']>[0];

function setup() {
  let now = 1_000_000;
  const sent: Heartbeat[] = [];
  const pd: StorePd = {
    storeHeartbeat: () => Promise.resolve({ requireRegionHeartbeats: false }),
    regionHeartbeat: (hb) => void sent.push(hb),
    scanRegions: () => Promise.resolve([]),
  };
  const leader = new FakeLeader();
  // The load counters are real: no load is served here, so no report carries any.
  const store = {
    peers: new Map([[7, leader]]),
    flow: new RegionFlow(() => now),
  } as unknown as RaftStore;
  const config = new StoreClusterConfig({ 'max-peer-down-duration': 10_000 });
  const worker = new PdWorker(
    1,
    pd,
    store,
    {} as never,
    {} as never,
    {
      storeHeartbeatMs: 1000,
      regionHeartbeatMs: 1000,
      regionSyncMs: 1000,
      raftLogGcIntervalMs: 1000,
      raftLogGcThreshold: 10,
    },
    () => undefined,
    config,
    () => now,
  );
  const p = leader as unknown as RegionPeer;
  return {
    leader,
    p,
    worker,
    sent,
    config,
    advance: (ms: number) => (now += ms),
    now: () => now,
    gauges: () => countUnhealthyPeers(store.peers.values(), (x) => worker.downPeersOf(x)),
  };
}

test('the heartbeat lists a silent peer with its down seconds, and clears it at once when it speaks', () => {
  const s = setup();
  s.worker.report(s.p);
  assert.equal(s.sent.length, 1);
  assert.equal(s.sent[0]!.downPeers, undefined, 'nobody is down at the election');

  s.advance(6_000);
  s.leader.liveness.heard(2, s.now());
  s.advance(4_500); // peer 3 silent 10.5 s, peer 2 4.5 s
  s.worker.recheckPeerHealth();
  assert.equal(s.sent.length, 1, 'a peer turning down waits for the periodic heartbeat');
  s.worker.report(s.p);
  assert.deepEqual(s.sent[1]!.downPeers, [{ peer: peer(3), downSeconds: 10 }]);
  assert.deepEqual(s.gauges(), { down: 1, pending: 0 });

  // Nothing changed: the recheck stays quiet.
  s.advance(1_000);
  s.worker.recheckPeerHealth();
  assert.equal(s.sent.length, 2);

  // Peer 3 answers: reported at once, without it (TiKV's any_new_peer_catch_up).
  s.leader.liveness.heard(3, s.now());
  s.worker.recheckPeerHealth();
  assert.equal(s.sent.length, 3);
  assert.equal(s.sent[2]!.downPeers, undefined);
  assert.deepEqual(s.gauges(), { down: 0, pending: 0 });
});

test('max-peer-down-duration comes from PD and applies at the next report', () => {
  const s = setup();
  s.worker.report(s.p);
  s.advance(20_000);
  s.leader.liveness.heard(2, s.now());
  s.leader.liveness.heard(3, s.now());
  s.advance(5_000);
  s.worker.report(s.p);
  assert.equal(s.sent.at(-1)!.downPeers, undefined, '5 s < 10 s');
  s.config.apply(2, [{ name: 'max-peer-down-duration', value: '3s' }]);
  s.worker.report(s.p);
  assert.deepEqual(
    s.sent.at(-1)!.downPeers?.map((d) => [d.peer.id, d.downSeconds]),
    [
      [2, 5],
      [3, 5],
    ],
  );
  assert.deepEqual(s.gauges(), { down: 2, pending: 0 });
});

test('a new term restarts the clocks; a follower reports nothing and counts nothing', () => {
  const s = setup();
  s.worker.report(s.p);
  s.advance(30_000);
  s.worker.report(s.p);
  assert.equal(s.sent.at(-1)!.downPeers?.length, 2);
  s.leader.term = 4;
  s.worker.recheckPeerHealth();
  assert.equal(s.sent.at(-1)!.downPeers, undefined, 'reported at once: none down in term 4');
  const count = s.sent.length;
  s.leader.leading = false;
  s.advance(60_000);
  s.worker.report(s.p);
  s.worker.recheckPeerHealth();
  assert.equal(s.sent.length, count, 'a follower sends no Region heartbeat');
  assert.deepEqual(s.gauges(), { down: 0, pending: 0 });
});

test('pending peers: reported, counted, and re-reported once they catch up', () => {
  const s = setup();
  s.leader.pending = [peer(2)];
  s.worker.report(s.p);
  assert.deepEqual(s.sent.at(-1)!.pendingPeers, [peer(2)]);
  assert.deepEqual(s.gauges(), { down: 0, pending: 1 });
  s.leader.pending = [];
  s.worker.recheckPeerHealth();
  assert.equal(s.sent.length, 2);
  assert.equal(s.sent[1]!.pendingPeers, undefined);
});

// PD's /cluster page (src/server/pd_cluster_view.ts) over a real PlacementDriver: stores
// with heartbeat age and stats, Regions with leader and leader-reported health, and the
// header counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pdClusterView } from '../../src/server/pd_cluster_view.js';
import { ManualClock, key, openPd, tempDir } from '../pd/helpers.js';

test('the cluster view: stores, Regions, leaders, down peers and the header counts', (t) => {
  const clock = new ManualClock(1_000_000);
  const pd = openPd(t, tempDir(t), { initialStores: 3, now: clock.now });
  for (const id of [1, 2, 3])
    pd.cluster.putStore({ id, address: `h:${id}`, statusAddress: `h:${id + 10}` });
  pd.cluster.storeHeartbeat(1, { capacity: 1000, available: 400 });
  const [left, right] = pd.cluster.bootstrap({ splitKeys: [key('m')] });
  const leftLeader = left!.peers.find((p) => p.storeId === 2)!;
  const down = left!.peers.find((p) => p.storeId === 3)!;
  pd.cluster.regionHeartbeat({
    region: left!,
    leader: leftLeader,
    term: 3,
    stats: { approximateKeys: 12, downPeers: [{ peer: down, downSeconds: 40 }] },
  });
  clock.advance(1500);

  const v = pdClusterView(pd, clock.ms, 42);
  assert.equal(v.clusterId, pd.clusterId);
  assert.equal(v.uptimeSec, 42);
  assert.equal(v.maxReplicas, 3);
  const s1 = v.stores.find((s) => s.id === 1)!;
  assert.equal(s1.heartbeatAgeMs, 1500);
  assert.equal(s1.capacity, 1000);
  assert.equal(s1.available, 400);
  assert.equal(s1.statusAddress, 'h:11');
  assert.equal(v.stores.find((s) => s.id === 2)!.heartbeatAgeMs, null, 'no heartbeat yet');

  assert.deepEqual(
    v.regions.map((r) => [r.id, r.startKey, r.endKey]),
    [
      [left!.id, '', Buffer.from('m').toString('hex')],
      [right!.id, Buffer.from('m').toString('hex'), ''],
    ],
  );
  const l = v.regions[0];
  assert.deepEqual(l.leader, { id: leftLeader.id, storeId: 2 });
  assert.equal(l.approximateKeys, 12);
  assert.equal(l.approximateSize, null, 'not reported');
  assert.equal(l.peers.find((p) => p.storeId === 3)!.downSeconds, 40);
  assert.equal(v.regions[1].leader, null);
  assert.equal(v.regionsWithoutLeader, 1);
  assert.equal(v.underReplicated, 1, 'the left Region has a voter down');
});

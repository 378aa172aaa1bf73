// How the peers of bootstrapped Regions elect (pd_worker.ts): one store per Region
// campaigns at once, the stores in turn, and every peer waits longer than usual before
// campaigning on its own, in proportion to the Regions made at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, StateRole } from '../../src/raft/index.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { bootstrapElectionDelay, bootstrapLeaderStore } from '../../src/store/pd_worker.js';
import { tempDir } from '../storage/tmp.js';
import { LoaderDisk } from './loader_disk.js';

const region = (id: number, stores: number[]): Region => ({
  id,
  startKey: Buffer.alloc(0),
  endKey: Buffer.alloc(0),
  epoch: { confVer: 1, version: 1 },
  peers: stores.map((s, i) => ({ id: id + i + 1, storeId: s, role: PeerRole.Voter })),
});

test('the campaigning store goes round the Region’s stores, whatever order PD lists them in', () => {
  const counts = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const r = region(4 * i + 4, i % 2 === 0 ? [1, 2, 3] : [3, 1, 2]);
    const s = bootstrapLeaderStore(r, i);
    assert.ok(r.peers.some((p) => p.storeId === s));
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  assert.deepEqual([...counts.entries()].sort(), [
    [1, 100],
    [2, 100],
    [3, 100],
  ]);
  // Every store computes the same answer from the same list.
  assert.equal(
    bootstrapLeaderStore(region(8, [2, 3, 1]), 1),
    bootstrapLeaderStore(region(8, [1, 2, 3]), 1),
  );
});

test('the wait grows with the Regions made at once: three election timeouts per thousand', () => {
  assert.equal(bootstrapElectionDelay(1, 10), 30);
  assert.equal(bootstrapElectionDelay(1000, 10), 30);
  assert.equal(bootstrapElectionDelay(1001, 10), 60);
  assert.equal(bootstrapElectionDelay(10_000, 10), 300);
});

test('a held peer that wins nothing waits twice as long before each new campaign, until it hears of a leader', (t) => {
  const disk = new LoaderDisk(tempDir(t));
  t.after(() => disk.close());
  const peer = disk.loader.createInitialPeer(region(4, [1, 2, 3]));
  const raft = peer.node.raft;
  peer.holdElections(20);
  const campaigns: number[] = [];
  let wasCampaigning = false;
  for (let tick = 1; tick <= 400; tick++) {
    const before = raft.electionElapsed;
    peer.tick();
    const started = raft.state !== StateRole.Follower && raft.electionElapsed !== before + 1;
    if (started) campaigns.push(tick);
    wasCampaigning ||= started;
  }
  assert.ok(wasCampaigning);
  // The randomized timeout adds [10, 20) ticks to each wait: 20, then 40, 80, 160 more.
  const gaps = campaigns.slice(1).map((c, i) => c - campaigns[i]!);
  assert.ok(campaigns[0]! >= 30 && campaigns[0]! < 40, `first campaign at ${campaigns[0]}`);
  assert.deepEqual(
    gaps.map((g) => g >= 0 && Math.floor(Math.log2(g))),
    gaps.map((_, i) => Math.floor(Math.log2(40 * 2 ** i + 10))),
    `gaps ${gaps}`,
  );
  // A leader's message ends the hold: from then on elections run as Raft has them.
  peer.node.step({
    ...raft.msgs[0]!,
    type: MessageType.Heartbeat,
    from: 2,
    to: raft.id,
    term: raft.term + 1,
    entries: [],
  });
  assert.equal(raft.lead, 2);
});

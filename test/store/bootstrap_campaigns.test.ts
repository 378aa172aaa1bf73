// The pacing of a store's bootstrap campaigns (bootstrap_campaigns.ts): at most `window`
// in flight; a campaign leaves the window when its Region has a leader that committed its
// entry, when another peer wins, or at its deadline; peers that have a leader already, or
// are no longer hosted, are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, NONE, StateRole, newMessage } from '../../src/raft/index.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import type { RegionPeer } from '../../src/store/peer.js';
import { BootstrapCampaigns } from '../../src/store/bootstrap_campaigns.js';
import { tempDir } from '../storage/tmp.js';
import { LoaderDisk } from './loader_disk.js';

const region = (id: number): Region => ({
  id,
  startKey: Buffer.from([id]),
  endKey: Buffer.from([id + 1]),
  epoch: { confVer: 1, version: 1 },
  peers: [1, 2, 3].map((s, i) => ({ id: 10 * id + i + 1, storeId: s, role: PeerRole.Voter })),
});

/** A leader of the Region (peer 2, on store 2) heard by `peer`, in a term above its own. */
function hearLeader(peer: RegionPeer): void {
  const raft = peer.node.raft;
  peer.node.step(
    newMessage({
      type: MessageType.Heartbeat,
      from: 10 * peer.regionId + 2,
      to: raft.id,
      term: raft.term + 1,
    }),
  );
}

const campaigning = (p: RegionPeer) =>
  p.node.raft.state === StateRole.PreCandidate || p.node.raft.state === StateRole.Candidate;

test('at most `window` campaigns in flight; a settled or overdue one makes room for the next', (t) => {
  const disk = new LoaderDisk(tempDir(t));
  t.after(() => disk.close());
  const peers = disk.loader.createInitialPeers([1, 2, 3, 4, 5, 6].map(region));
  const hosted = new Set(peers);
  const started: number[] = [];
  const campaigns = new BootstrapCampaigns(peers, {
    window: 2,
    deadlineTicks: 3,
    retries: 0,
    hosted: (p) => hosted.has(p),
    campaign: (p) => {
      p.campaign();
      started.push(p.regionId);
    },
  });
  assert.equal(campaigns.pending, 6);

  campaigns.tick();
  assert.deepEqual(started, [1, 2]);
  assert.ok(campaigning(peers[0]!) && campaigning(peers[1]!));
  assert.equal(campaigns.inFlightCount, 2);

  // Region 1 hears of a leader elected elsewhere: settled, so Region 3 may start. Region 4
  // hears of one before its turn and is skipped; Region 5 is no longer hosted.
  hearLeader(peers[0]!);
  hearLeader(peers[3]!);
  hosted.delete(peers[4]!);
  campaigns.tick();
  assert.deepEqual(started, [1, 2, 3]);
  assert.equal(campaigns.inFlightCount, 2);

  // Nothing settles: Region 2 leaves at its deadline (3 ticks after its campaign), then 3.
  campaigns.tick();
  assert.deepEqual(started, [1, 2, 3], 'region 2 is still within its deadline');
  campaigns.tick();
  assert.deepEqual(started, [1, 2, 3, 6]);
  assert.equal(peers[3]!.node.raft.lead !== NONE, true);
  assert.equal(campaigns.pending, 0);
  assert.ok(!campaigns.done);
  for (let i = 0; i < 3; i++) campaigns.tick();
  assert.ok(campaigns.done, 'every campaign left the window at its deadline');
});

test('a campaign that found no leader by its deadline goes to the back of the queue, `retries` times', (t) => {
  const disk = new LoaderDisk(tempDir(t));
  t.after(() => disk.close());
  const [a, b] = disk.loader.createInitialPeers([region(1), region(2)]);
  const started: number[] = [];
  const campaigns = new BootstrapCampaigns([a!, b!], {
    window: 1,
    deadlineTicks: 2,
    retries: 1,
    hosted: () => true,
    campaign: (p) => {
      p.campaign();
      started.push(p.regionId);
    },
  });
  for (let i = 0; i < 20 && !campaigns.done; i++) campaigns.tick();
  assert.ok(campaigns.done);
  assert.deepEqual(started, [1, 2, 1, 2]);
});

test('a window and a deadline below one, or negative retries, are refused', () => {
  const opts = { hosted: () => true, campaign: () => undefined, retries: 0 };
  assert.throws(() => new BootstrapCampaigns([], { ...opts, window: 0, deadlineTicks: 3 }));
  assert.throws(() => new BootstrapCampaigns([], { ...opts, window: 1, deadlineTicks: 0 }));
  assert.throws(
    () => new BootstrapCampaigns([], { ...opts, window: 1, deadlineTicks: 1, retries: -1 }),
  );
});

// A leader holds back appends that only carry commit news (held_commits.ts): the next
// append to the follower carries it instead, and a tick sends what is still held.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, ProgressState } from '../../src/raft/index.js';
import { HeldCommits } from '../../src/store/held_commits.js';
import type { RegionPeer } from '../../src/store/peer.js';
import { RaftTransport } from '../../src/store/raft_store.js';
import { Cluster } from '../raft/harness.js';
import { LocalNetwork, TestStore } from './cluster_harness.js';

/** Counts, per store, the commit-only appends it sends outside its ticks. */
class CountingNetwork extends LocalNetwork {
  readonly commitOnlyOutsideTick = new Map<number, number>();
  readonly inTick = new Set<number>();

  override transportFor(from: TestStore): RaftTransport {
    const inner = super.transportFor(from);
    return {
      send: (env) => {
        const m = env.message;
        if (m.type === MessageType.App && m.entries.length === 0 && !this.inTick.has(from.id)) {
          this.commitOnlyOutsideTick.set(
            from.id,
            (this.commitOnlyOutsideTick.get(from.id) ?? 0) + 1,
          );
        }
        inner.send(env);
      },
      flush: () => inner.flush(),
    };
  }

  /** Mark the store's ticks, so that sends from inside them can be told apart. */
  watchTicks(s: TestStore): void {
    const store = s.store as unknown as { onTick: () => void };
    const onTick = store.onTick.bind(s.store);
    store.onTick = () => {
      this.inTick.add(s.id);
      try {
        onTick();
      } finally {
        this.inTick.delete(s.id);
      }
    };
  }
}

let net: CountingNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

async function eventually(f: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a leader sends commit news with the next append or at a tick, never on its own at once', async () => {
  net = new CountingNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  for (const s of net.stores.values()) net.watchTicks(s);
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const ctx = { regionId: 1, epoch: region.epoch };
  // Settle the election's own traffic (probes are empty appends that must go at once).
  await leader.kv.put(ctx, Buffer.from('warm'), Buffer.from('up'));
  await new Promise((r) => setTimeout(r, 100));
  net.commitOnlyOutsideTick.clear();

  for (let i = 0; i < 30; i++) {
    await leader.kv.put(ctx, Buffer.from(`k${i}`), Buffer.from(`v${i}`));
  }
  // Every put committed and was answered, and no append carried only its commit index.
  assert.equal(net.commitOnlyOutsideTick.get(leader.id) ?? 0, 0);

  // Without further writes, the followers learn the last commit from a tick and apply it.
  const leaderPeer = leader.store.peers.get(1)!;
  await eventually(
    () =>
      [...net!.stores.values()].every(
        (s) => s.store.peers.get(1)!.appliedIndex === leaderPeer.appliedIndex,
      ),
    2_000,
    'every follower applies the last write',
  );
  for (const s of net.stores.values()) {
    assert.deepEqual(
      s.store.peers.get(1)!.engine.get('raw', Buffer.from('k29')),
      Buffer.from('v29'),
    );
  }
});

test('commit news followed in the same Ready by an append with entries is held (that append carries it)', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  // The followers' acks of the next entry are lost: it is not committed yet.
  c.dropType(MessageType.AppResp, 2, 1);
  c.dropType(MessageType.AppResp, 3, 1);
  c.propose(1, 'b');
  const lead = c.node(1);
  const last = lead.raft.raftLog.lastIndex();
  assert.ok(lead.raft.raftLog.committed < last);
  // Within one Ready: 2's ack commits the entry (Raft broadcasts the commit in empty
  // appends), then a proposal sends the next entry to both followers.
  lead.node.step({
    type: MessageType.AppResp,
    from: 2,
    to: 1,
    term: lead.term,
    logTerm: 0,
    index: last,
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
  });
  assert.equal(lead.raft.raftLog.committed, last);
  lead.node.propose(Buffer.from('c'));
  const msgs = lead.node.ready().messages.filter((m) => m.type === MessageType.App && m.to === 2);
  assert.deepEqual(
    msgs.map((m) => [m.index, m.entries.length]),
    [
      [last, 0],
      [last, 1],
    ],
  );
  const pr = lead.raft.trk.progress.get(2)!;
  assert.equal(pr.state, ProgressState.Replicate);
  assert.equal(pr.next, last + 2, 'the progress is past the commit news when the store sees it');
  const leader = { node: lead.node } as unknown as RegionPeer;
  assert.equal(HeldCommits.isCommitOnly(leader, msgs[0]!), true);
  assert.equal(HeldCommits.isCommitOnly(leader, msgs[1]!), false);
});

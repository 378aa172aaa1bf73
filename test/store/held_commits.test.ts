// A leader holds back appends that only carry commit news (held_commits.ts): the next
// append to the follower carries it instead, and a tick sends what is still held.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/raft/index.js';
import { RaftTransport } from '../../src/store/raft_store.js';
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

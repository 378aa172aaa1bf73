// The merge runner on three real stores (in-memory transport): where a fenced source's
// fate is decided when the proof that the target can never commit is not on the store
// where the source's leader is (merge_runner.ts, merge_verdict.ts).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegionPeer } from '../../src/store/peer.js';
import { LocalNetwork, eventually } from './cluster_harness.js';

const b = (s: string) => Buffer.from(s);
const TARGET = 1; // ['', 'm')
const SOURCE = 2; // ['m', '')

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

const stores = () => [...net!.stores.values()];
const peersOf = (regionId: number): RegionPeer[] =>
  stores().flatMap((s) => (s.store.peers.get(regionId) ? [s.store.peers.get(regionId)!] : []));

test('the proof of a rollback on a follower store moves the source leader there, which rolls back', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of stores()) s.open();
  net.bootstrapRegion(TARGET, '', 'm');
  net.bootstrapRegion(SOURCE, 'm', '');
  const [s1, s2] = [net.stores.get(1)!, net.stores.get(2)!];
  await net.leadOn(s1, SOURCE);
  await net.leadOn(s2, TARGET);
  // The target as PD knows it when it plans the merge (store 1's replica agrees).
  const recorded = s1.store.peers.get(TARGET)!.region;

  // Store 1 hears nothing of the target from now on; stores 2 and 3 split it, so its epoch
  // moves past the recorded one there, and only there.
  net.drop = (env) =>
    env.regionId === TARGET && (env.toPeer.storeId === 1 || env.fromPeer.storeId === 1);
  const parent = s2.store.peers.get(TARGET)!;
  const split = new Promise<unknown>((resolve) =>
    parent.proposeSplit(
      parent.region.epoch,
      [{ splitKey: b('f'), newRegionId: 9, newPeerIds: [901, 902, 903] }],
      resolve,
    ),
  );
  s2.store.schedule();
  assert.ok(!((await split) instanceof Error), 'the target split');

  s1.merges.prepare(SOURCE, s1.store.peers.get(SOURCE)!.region.epoch, recorded);
  await eventually(
    'the source fenced on every store',
    () => peersOf(SOURCE).length === 3 && peersOf(SOURCE).every((p) => p.merging() !== undefined),
  );
  // Store 1 (the source's leader) sees its target replica at the recorded epoch and not
  // leading: nothing to do. Stores 2 and 3 see the target moved on: the merge can never
  // commit. One of them takes the source's leadership and rolls it back.
  await eventually(
    'the fence lifted on every store',
    () => {
      for (const s of stores()) s.merges.tick();
      return peersOf(SOURCE).every((p) => p.merging() === undefined);
    },
    15_000,
  );
  for (const s of stores()) {
    assert.deepEqual(
      s.mergesApplied.map((m) => m.kind),
      ['prepared', 'rolledBack'],
      `store ${s.id} applied the prepare and its rollback, no commit`,
    );
  }
  assert.equal(s1.store.peers.get(SOURCE)!.isLeader(), false, 'the source is led elsewhere now');
  for (const p of peersOf(SOURCE)) assert.equal(p.region.startKey.toString(), 'm');
});

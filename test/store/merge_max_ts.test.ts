// max_ts across a merge (txn_kv.ts syncMaxTs). A read of a source key, served by the
// source's leader on one store, raised only that store's max_ts. Once the source is merged
// into a target led on another store, an async-commit prewrite of that key there must
// still commit above the read: else the reader's transaction, seeing no conflict, would
// overwrite a write it never saw (the store simulation's seed 98741 lost an append so).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { TxnKv } from '../../src/store/txn_kv.js';
import { LocalNetwork, TestStore, eventually } from './cluster_harness.js';

const b = (s: string) => Buffer.from(s);
const TARGET = 1; // ['', 'm')
const SOURCE = 2; // ['m', '')

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

test('a leader whose Region took in a merge syncs max_ts again before an async prewrite', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  net.bootstrapRegion(TARGET, '', 'm');
  net.bootstrapRegion(SOURCE, 'm', '');
  const [s1, s2] = [net.stores.get(1)!, net.stores.get(2)!];
  await net.leadOn(s1, SOURCE);
  await net.leadOn(s2, TARGET);

  // PD's TSO, as the stores fetch from it.
  let tso = 100n;
  const fetchTs = async () => tso;
  const sourceKv = new TxnKv(s1.store, { fetchTs });
  const targetKv = new TxnKv(s2.store, { fetchTs });
  const ctxOf = (s: TestStore, id: number) => ({
    regionId: id,
    epoch: s.store.peers.get(id)!.region.epoch,
  });
  const asyncPut = (key: string, startTs: bigint) => ({
    mutations: [{ op: 'put' as const, key: b(key), value: b('v') }],
    primary: b(key),
    startTs,
    lockTtl: 3000,
    useAsyncCommit: true,
  });

  // The target's leader synced this term (max_ts 100 on store 2).
  const first = await targetKv.prewrite(ctxOf(s2, TARGET), asyncPut('a', 50n));
  assert.equal(first.minCommitTs, 101n);
  // A reader at 500 reads key x of the source on store 1: store 1's max_ts is 500.
  tso = 600n;
  assert.equal(await sourceKv.get(ctxOf(s1, SOURCE), b('x'), 500n), undefined);

  s1.merges.prepare(SOURCE, ctxOf(s1, SOURCE).epoch, s2.store.peers.get(TARGET)!.region);
  await eventually(
    'the target took the source in',
    () => {
      for (const s of net!.stores.values()) s.merges.tick();
      return s2.store.peers.get(TARGET)!.region.endKey.length === 0;
    },
    10_000,
  );
  // A transaction that began at 400 writes x by async commit on store 2: it must commit
  // above the read at 500, which store 2 never served.
  const r = await targetKv.prewrite(ctxOf(s2, TARGET), asyncPut('x', 400n));
  assert.deepEqual(r.errors, []);
  assert.ok(r.minCommitTs > 500n, `min_commit_ts ${r.minCommitTs} is above the read at 500`);
});

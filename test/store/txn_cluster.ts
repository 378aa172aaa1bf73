// Three in-process stores on real engines (test/store/cluster_harness.ts) with Region 1
// bootstrapped and TxnKv on its leader: the setup of the TxnKv and GC tests. Call
// useTxnCluster() at a test file's top level; it closes the cluster after each test.
import { afterEach } from 'node:test';
import { TxnKv } from '../../src/store/txn_kv.js';
import { LocalNetwork } from './cluster_harness.js';

export function useTxnCluster() {
  let net: LocalNetwork | undefined;
  afterEach(() => {
    net?.close();
    net = undefined;
  });
  return async () => {
    net = new LocalNetwork([1, 2, 3]);
    for (const s of net.stores.values()) s.open();
    const region = net.bootstrapRegion(1);
    const leader = await net.waitForLeader(1);
    const kv = new TxnKv(leader.store);
    return { net, leader, kv, ctx: { regionId: 1, epoch: region.epoch } };
  };
}

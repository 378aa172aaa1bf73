import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  decodePeers,
  encodePeers,
  generateClusterId,
  PD_DB_FILE,
  PdMetaStore,
} from '../../src/pd/meta_store.js';
import { StoreState } from '../../src/pd/types.js';
import { PeerRole } from '../../src/region/meta.js';
import { region, tempDir } from './helpers.js';

test('the cluster id is chosen once and survives reopening', (t) => {
  const dir = tempDir(t);
  const a = PdMetaStore.open(dir, { clusterId: 4242 });
  assert.equal(a.clusterId, 4242);
  a.close();
  assert.ok(fs.existsSync(path.join(dir, PD_DB_FILE)));
  const b = PdMetaStore.open(dir, { clusterId: 7 });
  t.after(() => b.close());
  assert.equal(b.clusterId, 4242, 'the stored id wins over the option');
  const generated = generateClusterId();
  assert.ok(Number.isSafeInteger(generated) && generated > 0);
});

test('stores and regions round-trip, empty keys included', (t) => {
  const dir = tempDir(t);
  const a = PdMetaStore.open(dir);
  a.putStore({
    id: 1,
    address: '127.0.0.1:20160',
    statusAddress: '127.0.0.1:20180',
    state: StoreState.Up,
    labels: [{ key: 'zone', value: 'z1' }],
    lastHeartbeatMs: 123,
  });
  a.putStore({
    id: 1,
    address: '127.0.0.1:20161',
    statusAddress: '',
    state: StoreState.Offline,
    labels: [],
    lastHeartbeatMs: 456,
  });
  const r1 = region(1, '', 'm');
  const r2 = region(2, 'm', '', 3, 2);
  r2.peers[1]!.role = PeerRole.Learner;
  const r3 = region(3, 'x', 'y');
  a.putRegion(r1);
  a.putRegion(r2);
  a.putRegion(r3);
  a.deleteRegion(3);
  a.close();

  const b = PdMetaStore.open(dir);
  t.after(() => b.close());
  assert.deepEqual(b.loadStores(), [
    {
      id: 1,
      address: '127.0.0.1:20161',
      statusAddress: '',
      state: StoreState.Offline,
      labels: [],
      lastHeartbeatMs: 456,
    },
  ]);
  const loaded = b.loadRegions();
  assert.deepEqual(loaded, [r1, r2]);
  assert.equal(loaded[0]!.startKey.length, 0);
  assert.equal(loaded[1]!.endKey.length, 0);
});

test('a failed transaction leaves nothing behind', (t) => {
  const meta = PdMetaStore.open(tempDir(t));
  t.after(() => meta.close());
  assert.throws(() =>
    meta.transaction(() => {
      meta.putRegion(region(1, '', ''));
      throw new Error('boom');
    }),
  );
  assert.deepEqual(meta.loadRegions(), []);
  assert.equal(meta.isBootstrapped(), false);
});

test('peer encoding is compact and reversible', () => {
  const peers = region(7, 'a', 'b').peers;
  peers[2]!.role = PeerRole.Learner;
  const s = encodePeers(peers);
  assert.equal(s, '[[701,1,"V"],[702,2,"V"],[703,3,"L"]]');
  assert.deepEqual(decodePeers(s), peers);
});

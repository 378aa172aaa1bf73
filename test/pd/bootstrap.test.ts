import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPdError, PdErrorCode } from '../../src/pd/errors.js';
import {
  evenSplitKeys,
  findTilingViolation,
  layoutFromRequest,
} from '../../src/pd/initial_regions.js';
import { StoreState } from '../../src/pd/types.js';
import type { PlacementDriver } from '../../src/pd/placement_driver.js';
import { type Region } from '../../src/region/meta.js';
import { key, openPd, region, tempDir } from './helpers.js';

function addStores(pd: PlacementDriver, storeIds: number[]): void {
  for (const id of storeIds) pd.cluster.putStore({ id, address: `127.0.0.1:${20160 + id}` });
}

/** Regions tile the key space; every id (region and peer) is unique; epochs start at 1/1. */
function assertWellFormed(regions: Region[], storeIds: number[]): void {
  assert.equal(findTilingViolation(regions), undefined);
  const allIds = regions.flatMap((r) => [r.id, ...r.peers.map((p) => p.id)]);
  assert.equal(new Set(allIds).size, allIds.length, 'ids are unique');
  for (const r of regions) {
    assert.deepEqual(r.epoch, { confVer: 1, version: 1 });
    assert.deepEqual(
      r.peers.map((p) => p.storeId),
      storeIds,
    );
  }
}

test('the tiling check itself catches gaps, overlaps and open ends', () => {
  assert.equal(findTilingViolation([region(1, '', '')]), undefined);
  assert.equal(findTilingViolation([region(1, '', 'm'), region(2, 'm', '')]), undefined);
  assert.match(findTilingViolation([region(1, '', 'm'), region(2, 'n', '')])!, /gap/);
  assert.match(findTilingViolation([region(1, '', 'n'), region(2, 'm', '')])!, /overlaps/);
  assert.match(findTilingViolation([region(1, 'a', '')])!, /-infinity/);
  assert.match(findTilingViolation([region(1, '', 'm')])!, /\+infinity/);
  assert.match(findTilingViolation([])!, /no regions/);
});

test('bootstrap waits for initialStores stores, then places a peer on each', (t) => {
  const pd = openPd(t, tempDir(t), { initialStores: 3 });
  addStores(pd, [1, 2]);
  assert.equal(pd.cluster.canBootstrap(), false);
  assert.equal(pd.cluster.maybeBootstrap(), null);
  assert.throws(
    () => pd.cluster.bootstrap(),
    (e) => isPdError(e, PdErrorCode.NotEnoughStores),
  );
  addStores(pd, [3]);
  const regions = pd.cluster.maybeBootstrap({ evenSplits: 4 });
  assert.ok(regions);
  assert.equal(regions.length, 4);
  assertWellFormed(regions, [1, 2, 3]);
  assert.equal(pd.cluster.isBootstrapped(), true);
  assert.equal(pd.cluster.maybeBootstrap(), null);
});

test('even splits: N-1 evenly spaced two-byte keys that tile the key space', (t) => {
  assert.deepEqual(evenSplitKeys(1), []);
  assert.deepEqual(
    evenSplitKeys(4).map((k) => k.toString('hex')),
    ['4000', '8000', 'c000'],
  );
  assert.deepEqual(
    evenSplitKeys(3).map((k) => k.toString('hex')),
    ['5555', 'aaaa'],
  );
  assert.equal(new Set(evenSplitKeys(65536).map((k) => k.toString('hex'))).size, 65535);
  assert.throws(
    () => evenSplitKeys(0),
    (e) => isPdError(e, PdErrorCode.InvalidArgument),
  );
  assert.throws(
    () => evenSplitKeys(65537),
    (e) => isPdError(e, PdErrorCode.InvalidArgument),
  );

  for (const n of [1, 2, 3, 7, 16, 255, 1000]) {
    const pd = openPd(t, tempDir(t), { initialStores: 3 });
    addStores(pd, [5, 3, 9, 1]); // four stores: the three lowest ids get the peers
    const regions = pd.cluster.bootstrap({ evenSplits: n });
    assert.equal(regions.length, n);
    assertWellFormed(regions, [1, 3, 5]);
    // Every key lands in exactly one region, also through the cluster's lookup.
    for (const k of [
      key(''),
      Buffer.from([0]),
      Buffer.from([0x7f, 0xff, 0xff]),
      Buffer.from([0xff, 0xff, 0xff]),
    ]) {
      assert.equal(regions.filter((r) => inRegion(k, r)).length, 1);
      assert.ok(pd.cluster.getRegion(k));
    }
    pd.close();
  }
});

function inRegion(k: Buffer, r: Region): boolean {
  return (
    Buffer.compare(k, r.startKey) >= 0 && (r.endKey.length === 0 || Buffer.compare(k, r.endKey) < 0)
  );
}

test('explicit split keys: sorted, de-duplicated, and exactly the region boundaries', (t) => {
  const pd = openPd(t, tempDir(t), { initialStores: 1 });
  addStores(pd, [1]);
  assert.throws(
    () => pd.cluster.bootstrap({ splitKeys: [key('a'), key('')] }),
    (e) => isPdError(e, PdErrorCode.InvalidArgument),
  );
  assert.equal(pd.cluster.isBootstrapped(), false, 'a refused layout bootstraps nothing');
  const regions = pd.cluster.bootstrap({
    splitKeys: [key('user5'), key('t'), key('user5'), Buffer.from([0x00]), key('t\x00')],
  });
  assertWellFormed(regions, [1]);
  assert.deepEqual(
    regions.map((r) => [r.startKey.toString('hex'), r.endKey.toString('hex')]),
    [
      ['', '00'],
      ['00', '74'],
      ['74', '7400'],
      ['7400', '7573657235'],
      ['7573657235', ''],
    ],
  );
  assert.equal(pd.cluster.getRegion(key('user4'))?.region.id, regions[3]!.id);
  assert.equal(pd.cluster.getRegion(key('user5'))?.region.id, regions[4]!.id);
  assert.deepEqual(
    pd.cluster.getStoreRegions(1).map((i) => i.region.id),
    regions.map((r) => r.id),
  );
});

test('bootstrapping twice is refused, before and after a restart, which restores everything', (t) => {
  const dir = tempDir(t);
  const pd = openPd(t, dir, { initialStores: 3, idBatch: 5 });
  addStores(pd, [1, 2, 3]);
  const regions = pd.cluster.bootstrap({ splitKeys: [key('g'), key('p')] });
  assert.throws(
    () => pd.cluster.bootstrap(),
    (e) => isPdError(e, PdErrorCode.AlreadyBootstrapped),
  );
  const clusterId = pd.clusterId;
  pd.close();

  const again = openPd(t, dir, { initialStores: 3, idBatch: 5 });
  assert.equal(again.clusterId, clusterId);
  assert.equal(again.cluster.isBootstrapped(), true);
  assert.equal(again.cluster.maybeBootstrap(), null);
  assert.throws(
    () => again.cluster.bootstrap(),
    (e) => isPdError(e, PdErrorCode.AlreadyBootstrapped),
  );
  assert.deepEqual(
    again.cluster.scanRegions(key(''), key('')).map((i) => i.region),
    regions,
  );
  assert.deepEqual(
    again.cluster.getAllStores().map((s) => s.id),
    [1, 2, 3],
  );
  assert.equal(again.cluster.getStoreCounts(2).regionCount, 3);
  // Ids allocated after the restart never collide with bootstrap's.
  const used = new Set(regions.flatMap((r) => [r.id, ...r.peers.map((p) => p.id)]));
  for (let i = 0; i < 20; i++) assert.ok(!used.has(again.cluster.allocId()));
});

test('bootstrap onto explicitly chosen stores, which must be registered and up', (t) => {
  const pd = openPd(t, tempDir(t), { initialStores: 3 });
  addStores(pd, [1, 2, 3, 4]);
  pd.cluster.setStoreState(2, StoreState.Offline);
  const bad = [[7], [1, 1], [2]];
  for (const storeIds of bad) {
    assert.throws(
      () => pd.cluster.bootstrap({ evenSplits: 2 }, storeIds),
      (e) => isPdError(e),
    );
  }
  assert.equal(pd.cluster.isBootstrapped(), false);
  const regions = pd.cluster.bootstrap({ evenSplits: 2 }, [4, 1, 3]);
  assertWellFormed(regions, [4, 1, 3]);
});

test('the wire layout: split keys win, else even splits above 1, else one region', () => {
  assert.deepEqual(layoutFromRequest([key('a')], 5), { splitKeys: [key('a')] });
  assert.deepEqual(layoutFromRequest([], 5), { evenSplits: 5 });
  assert.deepEqual(layoutFromRequest([], 0), { evenSplits: 1 });
});

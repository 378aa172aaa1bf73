import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionTree } from '../../src/pd/region_tree.js';
import { ids, key, region } from './helpers.js';

function tiled(): RegionTree {
  // (-inf, b) [b, d) [d, f) [f, +inf)
  const t = new RegionTree();
  t.update(region(1, '', 'b'));
  t.update(region(2, 'b', 'd'));
  t.update(region(3, 'd', 'f'));
  t.update(region(4, 'f', ''));
  return t;
}

test('lookups at boundaries: start inclusive, end exclusive, empty end is +infinity', () => {
  const t = tiled();
  assert.equal(t.getRegion(key(''))?.id, 1);
  assert.equal(t.getRegion(key('a'))?.id, 1);
  assert.equal(t.getRegion(key('a\xff\xff'))?.id, 1);
  assert.equal(t.getRegion(key('b'))?.id, 2);
  assert.equal(t.getRegion(key('b\x00'))?.id, 2);
  assert.equal(t.getRegion(key('c'))?.id, 2);
  assert.equal(t.getRegion(key('d'))?.id, 3);
  assert.equal(t.getRegion(key('f'))?.id, 4);
  assert.equal(t.getRegion(Buffer.from([0xff, 0xff, 0xff, 0xff]))?.id, 4);
  assert.equal(t.getRegionById(3)?.startKey.toString(), 'd');
  assert.equal(t.getRegionById(99), undefined);
  assert.equal(t.size, 4);
});

test('keys in a gap find no region', () => {
  const t = new RegionTree();
  t.update(region(1, 'b', 'd'));
  t.update(region(2, 'f', 'h'));
  assert.equal(t.getRegion(key('a')), undefined);
  assert.equal(t.getRegion(key('d')), undefined);
  assert.equal(t.getRegion(key('e')), undefined);
  assert.equal(t.getRegion(key('h')), undefined);
  assert.equal(t.getRegion(key('g'))?.id, 2);
});

test('a split replaces the parent: the first child evicts it, the second fills the gap', () => {
  const t = tiled();
  // Region 2 [b, d) splits at c into 2 [b, c) and 5 [c, d), both version 2.
  const removed = t.update(region(5, 'c', 'd', 2));
  assert.deepEqual(ids(removed), [2]);
  assert.equal(t.getRegion(key('b')), undefined, 'the left half is a gap until reported');
  assert.equal(t.getRegion(key('c'))?.id, 5);
  assert.deepEqual(ids(t.update(region(2, 'b', 'c', 2))), []);
  assert.deepEqual(ids(t.all()), [1, 2, 5, 3, 4]);
  assert.equal(t.getRegion(key('b'))?.id, 2);
  assert.equal(t.getRegion(key('c'))?.id, 5);
});

test('a merged region replaces every region it covers', () => {
  const t = tiled();
  const removed = t.update(region(3, 'b', ''));
  assert.deepEqual(ids(removed).sort(), [2, 3, 4]);
  assert.deepEqual(ids(t.all()), [1, 3]);
  assert.equal(t.getRegionById(2), undefined);
  assert.equal(t.getRegion(key('zzz'))?.id, 3);
});

test('an update of the same id to a disjoint range drops the old entry', () => {
  const t = new RegionTree();
  t.update(region(1, 'a', 'b'));
  t.update(region(2, 'x', 'y'));
  assert.deepEqual(ids(t.update(region(1, 'm', 'n'))), [1]);
  assert.deepEqual(ids(t.all()), [1, 2]);
  assert.equal(t.getRegion(key('a')), undefined);
  assert.equal(t.getRegion(key('m'))?.id, 1);
});

test('scan: from the region containing start, bounded by end, limited', () => {
  const t = tiled();
  assert.deepEqual(ids(t.scanRegions(key(''), key(''))), [1, 2, 3, 4]);
  assert.deepEqual(ids(t.scanRegions(key('c'), key(''))), [2, 3, 4]);
  assert.deepEqual(ids(t.scanRegions(key('c'), key('e'))), [2, 3]);
  assert.deepEqual(ids(t.scanRegions(key('c'), key('d'))), [2], 'end is exclusive');
  assert.deepEqual(ids(t.scanRegions(key('d'), key('d\x00'))), [3]);
  assert.deepEqual(ids(t.scanRegions(key(''), key(''), 2)), [1, 2]);
  assert.deepEqual(ids(t.scanRegions(key('b'), key(''), 1)), [2]);
  assert.deepEqual(ids(t.scanRegions(key('zz'), key(''), 10)), [4]);
  assert.deepEqual(ids(t.scanRegions(key('a'), key('b'), 0)), [1]);
});

test('scan over gaps skips to the next region; overlaps() agrees with scan', () => {
  const t = new RegionTree();
  t.update(region(1, 'b', 'd'));
  t.update(region(2, 'f', 'h'));
  assert.deepEqual(ids(t.scanRegions(key('a'), key(''))), [1, 2]);
  assert.deepEqual(ids(t.scanRegions(key('d'), key(''))), [2]);
  assert.deepEqual(ids(t.scanRegions(key('d'), key('f'))), []);
  assert.deepEqual(ids(t.overlaps(region(9, 'c', 'g'))), [1, 2]);
  assert.deepEqual(ids(t.overlaps(region(9, 'd', 'f'))), []);
});

test('remove takes a region out', () => {
  const t = tiled();
  assert.equal(t.remove(2)?.id, 2);
  assert.equal(t.remove(2), undefined);
  assert.equal(t.getRegion(key('c')), undefined);
  assert.deepEqual(ids(t.all()), [1, 3, 4]);
});

test('many regions: every lookup lands in the right one', () => {
  const t = new RegionTree();
  const n = 2000;
  const bound = (i: number) =>
    i === 0 || i === n ? Buffer.alloc(0) : Buffer.from([i >> 8, i & 0xff]);
  // Insert in a scrambled order to exercise the splice positions.
  for (let k = 0; k < n; k++) {
    const i = (k * 7919) % n;
    t.update({
      id: i + 1,
      startKey: bound(i),
      endKey: bound(i + 1),
      epoch: { confVer: 1, version: 1 },
      peers: [],
    });
  }
  assert.equal(t.size, n);
  for (let i = 1; i < n; i++) {
    assert.equal(t.getRegion(Buffer.from([i >> 8, i & 0xff]))?.id, i + 1);
    assert.equal(t.getRegion(Buffer.from([i >> 8, i & 0xff, 0x80]))?.id, i + 1);
  }
});

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isPdError, PdErrorCode } from '../../src/pd/errors.js';
import type { PlacementDriver } from '../../src/pd/placement_driver.js';
import { cloneRegion, PeerRole, type Region } from '../../src/region/meta.js';
import { key, openPd, tempDir } from './helpers.js';

/** A bootstrapped 3-store cluster with two regions: left (-inf, m) and right [m, +inf). */
function setup(
  t: TestContext,
  dir = tempDir(t),
): { pd: PlacementDriver; left: Region; right: Region; dir: string } {
  const pd = openPd(t, dir, { initialStores: 3 });
  for (const id of [1, 2, 3]) pd.cluster.putStore({ id, address: `h:${id}` });
  const [left, right] = pd.cluster.bootstrap({ splitKeys: [key('m')] });
  return { pd, left: left!, right: right!, dir };
}

function bumped(
  r: Region,
  change: Partial<Region> & { version?: number; confVer?: number },
): Region {
  const c = cloneRegion(r);
  if (change.startKey) c.startKey = change.startKey;
  if (change.endKey) c.endKey = change.endKey;
  if (change.peers) c.peers = change.peers;
  if (change.id !== undefined) c.id = change.id;
  c.epoch = {
    version: change.version ?? r.epoch.version,
    confVer: change.confVer ?? r.epoch.confVer,
  };
  return c;
}

const stale = (e: unknown) => isPdError(e, PdErrorCode.StaleRegion);

test('heartbeats are refused before bootstrap and from unknown stores', (t) => {
  const pd = openPd(t, tempDir(t), { initialStores: 1 });
  pd.cluster.putStore({ id: 1, address: 'h:1' });
  const r: Region = {
    id: 1,
    startKey: key(''),
    endKey: key(''),
    epoch: { confVer: 1, version: 1 },
    peers: [{ id: 2, storeId: 1, role: PeerRole.Voter }],
  };
  assert.throws(
    () => pd.cluster.regionHeartbeat({ region: r, term: 1, leader: r.peers[0]! }),
    (e) => isPdError(e, PdErrorCode.NotBootstrapped),
  );
  const [boot] = pd.cluster.bootstrap();
  const foreign = {
    ...boot!,
    peers: [...boot!.peers, { id: 99, storeId: 7, role: PeerRole.Voter }],
  };
  assert.throws(
    () => pd.cluster.regionHeartbeat({ region: foreign, term: 1, leader: foreign.peers[1]! }),
    (e) => isPdError(e, PdErrorCode.StoreNotFound),
  );
  assert.throws(
    () =>
      pd.cluster.regionHeartbeat({
        region: boot!,
        leader: { id: 12345, storeId: 1, role: PeerRole.Voter },
      }),
    (e) => isPdError(e, PdErrorCode.InvalidArgument),
  );
});

test('leaders are tracked per region and counted per store, without touching disk', (t) => {
  const { pd, left, right } = setup(t);
  assert.equal(pd.cluster.getRegion(key('a'))?.leader, undefined);
  let res = pd.cluster.regionHeartbeat({ region: left, leader: left.peers[0]!, term: 2 });
  assert.deepEqual(res, { changed: false, replaced: [] });
  pd.cluster.regionHeartbeat({
    region: right,
    leader: right.peers[0]!,
    term: 2,
    stats: { approximateSize: 7 },
  });
  assert.deepEqual(pd.cluster.getRegion(key('a'))?.leader, left.peers[0]);
  assert.deepEqual(pd.cluster.getStoreCounts(1), { regionCount: 2, leaderCount: 2 });
  assert.deepEqual(pd.cluster.getRegionStats(right.id), { approximateSize: 7 });

  // Leadership moves to store 2 in a later term.
  res = pd.cluster.regionHeartbeat({ region: left, leader: left.peers[1]!, term: 3 });
  assert.equal(res.changed, false);
  assert.deepEqual(pd.cluster.getStoreCounts(1), { regionCount: 2, leaderCount: 1 });
  assert.deepEqual(pd.cluster.getStoreCounts(2), { regionCount: 2, leaderCount: 1 });
  // The deposed leader's late report (older term) is stale and changes nothing.
  assert.throws(
    () => pd.cluster.regionHeartbeat({ region: left, leader: left.peers[0]!, term: 2 }),
    stale,
  );
  assert.deepEqual(pd.cluster.getRegionById(left.id)?.leader, left.peers[1]);
});

test('a stale epoch never overwrites a newer one', (t) => {
  const { pd, left } = setup(t);
  const v2 = bumped(left, { version: 2, confVer: 2 });
  assert.equal(
    pd.cluster.regionHeartbeat({ region: v2, term: 1, leader: v2.peers[0]! }).changed,
    true,
  );
  const olderVersion = bumped(left, { version: 1, confVer: 2 });
  const olderConf = bumped(left, { version: 2, confVer: 1 });
  for (const r of [left, olderVersion, olderConf]) {
    assert.throws(
      () => pd.cluster.regionHeartbeat({ region: r, term: 1, leader: r.peers[0]! }),
      stale,
    );
  }
  assert.deepEqual(pd.cluster.getRegionById(left.id)?.region.epoch, { version: 2, confVer: 2 });
});

test('a membership change is accepted, persisted and recounted', (t) => {
  const { pd, left, dir } = setup(t);
  pd.cluster.putStore({ id: 4, address: 'h:4' });
  pd.cluster.regionHeartbeat({ region: left, leader: left.peers[0]!, term: 1 });
  // Replace the peer on store 3 by a new one on store 4.
  const peers = [
    left.peers[0]!,
    left.peers[1]!,
    { id: pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter },
  ];
  const changed = bumped(left, { confVer: 3, peers });
  const res = pd.cluster.regionHeartbeat({ region: changed, leader: peers[0]!, term: 1 });
  assert.deepEqual(res, { changed: true, replaced: [] });
  assert.deepEqual(pd.cluster.getStoreCounts(3), { regionCount: 1, leaderCount: 0 });
  assert.deepEqual(pd.cluster.getStoreCounts(4), { regionCount: 1, leaderCount: 0 });
  assert.deepEqual(pd.cluster.getStoreCounts(1), { regionCount: 2, leaderCount: 1 });
  pd.close();

  const again = openPd(t, dir, { initialStores: 3 });
  assert.deepEqual(again.cluster.getRegionById(left.id)?.region, changed);
  assert.equal(again.cluster.getRegionById(left.id)?.leader, undefined, 'leaders are volatile');
  assert.deepEqual(again.cluster.getStoreCounts(4), { regionCount: 1, leaderCount: 0 });
});

test('a split replaces the parent; the parent’s stale report is then refused', (t) => {
  const { pd, left, right, dir } = setup(t);
  pd.cluster.regionHeartbeat({ region: left, leader: left.peers[0]!, term: 1 });
  // left (-inf, m) splits at g: a new region takes (-inf, g), left keeps [g, m); both v2.
  const newId = pd.cluster.allocId();
  const child: Region = {
    id: newId,
    startKey: key(''),
    endKey: key('g'),
    epoch: { confVer: 1, version: 2 },
    peers: left.peers.map((p) => ({ ...p, id: pd.cluster.allocId() })),
  };
  const rest = bumped(left, { startKey: key('g'), version: 2 });

  // The new child reports first: it overlaps the parent (older version) and evicts it.
  let res = pd.cluster.regionHeartbeat({ region: child, leader: child.peers[0]!, term: 1 });
  assert.deepEqual(res, { changed: true, replaced: [left.id] });
  assert.equal(pd.cluster.getRegion(key('h')), undefined, 'a gap until the other half reports');
  // The parent's pre-split view is stale against the child.
  assert.throws(
    () => pd.cluster.regionHeartbeat({ region: left, term: 1, leader: left.peers[0]! }),
    stale,
  );

  res = pd.cluster.regionHeartbeat({ region: rest, leader: rest.peers[0]!, term: 1 });
  assert.deepEqual(res, { changed: true, replaced: [] });
  const map = pd.cluster.scanRegions(key(''), key(''));
  assert.deepEqual(
    map.map((i) => i.region.id),
    [newId, left.id, right.id],
  );
  assert.equal(pd.cluster.getRegion(key('a'))?.region.id, newId);
  assert.equal(pd.cluster.getRegion(key('g'))?.region.id, left.id);
  assert.deepEqual(pd.cluster.getStoreCounts(2), { regionCount: 3, leaderCount: 0 });
  assert.deepEqual(pd.cluster.getStoreCounts(1), { regionCount: 3, leaderCount: 2 });
  pd.close();

  const again = openPd(t, dir, { initialStores: 3 });
  assert.deepEqual(
    again.cluster.scanRegions(key(''), key('')).map((i) => i.region),
    [child, rest, right],
  );
});

test('a merge replaces the source; the source’s late report is refused', (t) => {
  const { pd, left, right } = setup(t);
  // right absorbs left: (-inf, +inf) with version max(1, 1) + 1.
  const merged = bumped(right, { startKey: key(''), version: 2 });
  const res = pd.cluster.regionHeartbeat({ region: merged, leader: merged.peers[0]!, term: 1 });
  assert.deepEqual(res, { changed: true, replaced: [left.id], merged: [left.id] });
  assert.equal(pd.cluster.regionCount, 1);
  assert.throws(
    () => pd.cluster.regionHeartbeat({ region: left, term: 1, leader: left.peers[0]! }),
    stale,
  );
  assert.deepEqual(pd.cluster.getStoreCounts(3), { regionCount: 1, leaderCount: 0 });
});

test('keys arriving as Uint8Array are accepted like Buffers', (t) => {
  const { pd, left } = setup(t);
  const wire = {
    ...left,
    startKey: new Uint8Array(0) as Buffer,
    endKey: new Uint8Array(key('m')) as Buffer,
  };
  assert.equal(
    pd.cluster.regionHeartbeat({ region: wire, term: 1, leader: left.peers[0]! }).changed,
    false,
  );
});

// RegionCache on its own, over a scripted PD: lookups, range location and every repair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionCache, type PdLookup, type RegionInfo } from '../../src/client/region_cache.js';
import { keyInRegion, PeerRole, type Region } from '../../src/region/meta.js';

const b = (s: string) => Buffer.from(s);
const cmp = Buffer.compare;

function region(id: number, start: string, end: string, version = 1): Region {
  return {
    id,
    startKey: b(start),
    endKey: b(end),
    epoch: { confVer: 1, version },
    peers: [1, 2, 3].map((s) => ({ id: id * 10 + s, storeId: s, role: PeerRole.Voter })),
  };
}

class ScriptedPd implements PdLookup {
  calls = { getRegion: 0, scanRegions: 0, getStore: 0 };
  constructor(public regions: Region[]) {}
  async getRegion(key: Buffer): Promise<RegionInfo | undefined> {
    this.calls.getRegion++;
    const r = this.regions.find((x) => keyInRegion(key, x));
    return r && { region: r, leader: r.peers[1]! };
  }
  async getRegionById(id: number): Promise<RegionInfo | undefined> {
    const r = this.regions.find((x) => x.id === id);
    return r && { region: r };
  }
  async scanRegions(start: Buffer, end: Buffer, limit: number): Promise<RegionInfo[]> {
    this.calls.scanRegions++;
    return this.regions
      .filter(
        (r) =>
          (end.length === 0 || cmp(r.startKey, end) < 0) &&
          (r.endKey.length === 0 || cmp(r.endKey, start) > 0),
      )
      .slice(0, limit)
      .map((r) => ({ region: r }));
  }
  async getStore(id: number) {
    this.calls.getStore++;
    return { store: { address: `store-${id}:20160` } };
  }
  async getTimestamp() {
    return 1n;
  }
}

const THREE = () => [region(1, '', 'g'), region(2, 'g', 'p'), region(3, 'p', '')];

test('locateKey loads once from PD, then answers from the cache', async () => {
  const pd = new ScriptedPd(THREE());
  const cache = new RegionCache(pd);
  const [x, y] = await Promise.all([cache.locateKey(b('h')), cache.locateKey(b('h'))]);
  assert.equal(x.region.id, 2);
  assert.equal(y.region.id, 2);
  assert.equal(x.leader.storeId, 2, "PD's leader");
  assert.equal(pd.calls.getRegion, 1, 'concurrent misses share one lookup');
  assert.equal((await cache.locateKey(b('o'))).region.id, 2);
  assert.equal((await cache.locateKey(b('g'))).region.id, 2, 'start key is inclusive');
  assert.equal(pd.calls.getRegion, 1);
  assert.equal((await cache.locateKey(b('p'))).region.id, 3, 'end key is exclusive');
  assert.equal((await cache.locateKey(b(''))).region.id, 1);
  assert.equal(cache.size, 3);
  assert.equal(await cache.storeAddress(2), 'store-2:20160');
  await cache.storeAddress(2);
  assert.equal(pd.calls.getStore, 1);
});

test('locateRange covers a range in order, filling gaps with one PD scan', async () => {
  const pd = new ScriptedPd(THREE());
  const cache = new RegionCache(pd);
  const ids = async (s: string, e: string) =>
    (await cache.locateRange(b(s), b(e))).map((l) => l.region.id);
  assert.deepEqual(await ids('a', 'z'), [1, 2, 3]);
  assert.equal(pd.calls.scanRegions, 1);
  assert.equal(pd.calls.getRegion, 0);
  assert.deepEqual(await ids('', ''), [1, 2, 3]);
  assert.deepEqual(await ids('h', 'p'), [2], 'an end on a boundary does not reach the next');
  assert.deepEqual(await ids('h', 'p\0'), [2, 3]);
  assert.deepEqual(await ids('z', 'a'), []);
  assert.equal(pd.calls.scanRegions, 1);

  assert.equal((await cache.locateEndKey(b('p'), b(''))).region.id, 2);
  assert.equal((await cache.locateEndKey(b('p\0'), b(''))).region.id, 3);
  assert.equal((await cache.locateEndKey(b(''), b(''))).region.id, 3);
  assert.equal((await cache.locateEndKey(b('a'), b(''))).region.id, 1);
});

test('NotLeader: a hint switches, no hint rotates, an unknown peer drops the entry', async () => {
  const cache = new RegionCache(new ScriptedPd(THREE()));
  let loc = await cache.locateKey(b('h'));
  assert.equal(cache.onNotLeader(loc, { id: 23, storeId: 3, role: PeerRole.Voter }), true);
  loc = cache.lookup(b('h'))!;
  assert.equal(loc.leader.storeId, 3);
  cache.onNotLeader(loc);
  assert.equal(cache.lookup(b('h'))!.leader.storeId, 1, 'wraps around the peers');
  loc = cache.lookup(b('h'))!;
  assert.equal(cache.onNotLeader(loc, { id: 99, storeId: 4, role: PeerRole.Voter }), false);
  assert.equal(cache.lookup(b('h')), undefined);
});

test('EpochNotMatch replaces the stale Region with the current ones', async () => {
  const pd = new ScriptedPd(THREE());
  const cache = new RegionCache(pd);
  await cache.locateRange(b(''), b(''));
  const loc = cache.lookup(b('h'))!;
  cache.onEpochNotMatch(loc, [region(2, 'g', 'k', 2), region(7, 'k', 'p', 2)], 3);
  assert.deepEqual(
    cache.snapshot().map((e) => [e.region.id, e.region.startKey.toString(), e.leader.storeId]),
    [
      [1, '', 1], // scanned without a leader: the first voter is the guess
      [2, 'g', 3], // the store that answered
      [7, 'k', 3],
      [3, 'p', 1],
    ],
  );
  // PD has not heard of the split yet: its older answer must not undo it.
  const stale = cache.insert({ region: region(2, 'g', 'p', 1) });
  assert.equal(stale.region.epoch.version, 1, 'the answer is still usable for one request');
  assert.equal(cache.lookup(b('m'))!.region.id, 7);
  assert.equal(cache.size, 4);
  // With no Regions in the error, the entry is dropped and PD asked again.
  cache.onEpochNotMatch(cache.lookup(b('m'))!, [], 3);
  assert.equal(cache.lookup(b('m')), undefined);
  assert.equal(cache.lookup(b('h'))!.region.id, 2);
});

test('send failures try the other peers, then ask PD again', async () => {
  const pd = new ScriptedPd(THREE());
  const cache = new RegionCache(pd);
  await cache.storeAddress(2);
  let loc = await cache.locateKey(b('h'));
  assert.equal(loc.leader.storeId, 2);
  cache.onSendFail(loc);
  loc = cache.lookup(b('h'))!;
  assert.equal(loc.leader.storeId, 3);
  cache.onSendFail(loc);
  loc = cache.lookup(b('h'))!;
  assert.equal(loc.leader.storeId, 1);
  cache.onSendFail(loc);
  assert.equal(cache.lookup(b('h')), undefined, 'every peer failed');
  await cache.storeAddress(2);
  assert.equal(pd.calls.getStore, 2, 'a failed store address is looked up again');

  loc = await cache.locateKey(b('h'));
  cache.onSendFail(loc);
  cache.onSuccess(cache.lookup(b('h'))!);
  cache.onSendFail(cache.lookup(b('h'))!);
  cache.onSendFail(cache.lookup(b('h'))!);
  assert.ok(cache.lookup(b('h')), 'a success resets the count');
});

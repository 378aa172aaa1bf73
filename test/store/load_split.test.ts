import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseLoadSplitKey,
  LoadSplitController,
  type LoadSplitThresholds,
} from '../../src/store/load_split.js';
import { MAX_WINDOW_SAMPLES, RegionFlow, type KeyAccess } from '../../src/store/region_flow.js';
import type { RaftStore } from '../../src/store/raft_store.js';
import type { SplitRunner } from '../../src/store/split_runner.js';
import type { RegionPeer } from '../../src/store/peer.js';
import type { Region, RegionEpoch } from '../../src/region/meta.js';

const k = (i: number) => Buffer.from(`k${String(i).padStart(3, '0')}`);
const region = (start: string, end: string) => ({
  startKey: Buffer.from(start),
  endKey: Buffer.from(end),
});

test('split key: uniform point reads over a range are cut in the middle', () => {
  const samples: KeyAccess[] = [];
  for (let i = 0; i < 100; i++) samples.push({ start: k(i) });
  const c = chooseLoadSplitKey(samples, region('', ''))!;
  assert.ok(c);
  assert.equal(c.key.toString(), 'k050');
  assert.deepEqual([c.left, c.right, c.contained], [50, 50, 0]);
});

test('split key: skewed load is cut where it balances, not where the keys do', () => {
  // k000..k009 take 2 of 3 requests: the cut falls among them.
  const samples: KeyAccess[] = [];
  for (let i = 0; i < 10; i++) for (let j = 0; j < 18; j++) samples.push({ start: k(i) });
  for (let i = 10; i < 100; i++) samples.push({ start: k(i) });
  const c = chooseLoadSplitKey(samples, region('', ''))!;
  const left = samples.filter((a) => Buffer.compare(a.start, c.key) < 0).length;
  assert.ok(Math.abs(left - (samples.length - left)) / samples.length <= 0.25, `cut at ${c.key}`);
  assert.ok(Buffer.compare(c.key, k(10)) < 0, `cut at ${c.key}`);
});

test('split key: none for one hot key, for load at the edge, or for scans that every key would cut', () => {
  const one = Array.from({ length: 50 }, () => ({ start: k(7) }));
  assert.equal(chooseLoadSplitKey(one, region('', '')), undefined);
  // Half the load on the Region's first key and half on one more: the only cut that
  // balances is at that other key (never at the start key, which would leave one side empty).
  const edge = [
    ...Array.from({ length: 20 }, () => ({ start: Buffer.from('k') })),
    ...Array.from({ length: 20 }, () => ({ start: k(5) })),
  ];
  const c = chooseLoadSplitKey(edge, region('k', 'z'))!;
  assert.equal(c.key.toString(), 'k005');
  assert.equal(chooseLoadSplitKey(edge, region('k', 'k005')), undefined, 'k005 is past its end');
  // Scans over the whole range: any cut is inside most of them.
  const scans = Array.from({ length: 40 }, (_, i) => ({ start: k(i), end: k(i + 60) }));
  assert.equal(chooseLoadSplitKey(scans, region('', '')), undefined);
  // Short scans are fine: they fall on one side.
  const short = Array.from({ length: 40 }, (_, i) => ({ start: k(i * 2), end: k(i * 2 + 1) }));
  assert.equal(chooseLoadSplitKey(short, region('', ''))!.key.toString(), 'k040');
});

test('region flow: heartbeat counts span an interval; the window sample is bounded', () => {
  let now = 1000;
  let coin = 0;
  const flow = new RegionFlow(
    () => now,
    () => (coin = (coin + 0.37) % 1),
  );
  flow.onRead(7, { start: k(1) }, 1, 10);
  flow.onWrite(7, 2, 30);
  now += 400;
  assert.equal(flow.takeReport(7, 500), undefined, 'too soon: the counts keep accumulating');
  now += 200;
  assert.deepEqual(flow.takeReport(7, 500), {
    readKeys: 1,
    readBytes: 10,
    writtenKeys: 2,
    writtenBytes: 30,
    intervalMs: 600,
  });
  now += 999.6; // performance.now() is fractional; the heartbeat carries whole ms
  assert.deepEqual(flow.takeReport(7, 500), {
    readKeys: 0,
    readBytes: 0,
    writtenKeys: 0,
    writtenBytes: 0,
    intervalMs: 1000,
  });
  for (let i = 0; i < 1000; i++) flow.onRead(7, { start: k(i % 100) }, 1, 5);
  const w = flow.takeWindow(7);
  // The window counts every read since the last take, the one before the reports too;
  // the write is reported to PD but is no load split's concern (TiKV: reads only).
  assert.equal(w.requests, 1001);
  assert.equal(w.bytes, 5000 + 10);
  assert.equal(w.samples.length, MAX_WINDOW_SAMPLES);
  assert.deepEqual(flow.takeWindow(7), { requests: 0, bytes: 0, samples: [] });
  flow.retain(() => false);
  assert.deepEqual(flow.regionIds(), []);
});

/** The store below the controller: its flow, and leader peers with a Region. */
function fakeStore(r: Region): { store: RaftStore; leader: { value: boolean } } {
  const leader = { value: true };
  const peer = { isLeader: () => leader.value, region: r } as unknown as RegionPeer;
  const store = { flow: new RegionFlow(), peers: new Map([[r.id, peer]]) } as unknown as RaftStore;
  return { store, leader };
}

test('load split controller: over a threshold for detect-times windows in a row, then one split', () => {
  const r: Region = {
    id: 9,
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    epoch: { confVer: 1, version: 3 },
    peers: [],
  };
  const { store } = fakeStore(r);
  const splits: { regionId: number; keys: Buffer[]; epoch?: RegionEpoch }[] = [];
  const runner = {
    split: (regionId: number, keys: Buffer[], epoch?: RegionEpoch) => {
      splits.push({ regionId, keys, epoch });
      return new Promise(() => undefined);
    },
  } as unknown as SplitRunner;
  let now = 0;
  const t: LoadSplitThresholds = { qps: 50, bytes: 1 << 30, detectTimes: 3 };
  const ctl = new LoadSplitController(
    store,
    runner,
    () => t,
    () => undefined,
    () => now,
  );
  const second = (requests: number) => {
    for (let i = 0; i < requests; i++) store.flow.onRead(9, { start: k(i % 100) }, 1, 10);
    now += 1000;
    return ctl.tick();
  };
  assert.deepEqual(second(100), []);
  assert.deepEqual(second(100), []);
  assert.deepEqual(second(10), [], 'a quiet second starts the count again');
  assert.deepEqual(second(100), []);
  assert.deepEqual(second(100), []);
  assert.deepEqual(second(100), [9]);
  assert.equal(splits.length, 1);
  assert.deepEqual(splits[0]!.epoch, { confVer: 1, version: 3 });
  const key = splits[0]!.keys[0]!.toString();
  assert.ok(key > 'k030' && key < 'k070', `split at ${key}`);
  // While that split runs, the Region is not judged again.
  for (let i = 0; i < 4; i++) assert.deepEqual(second(100), []);
  assert.equal(splits.length, 1);

  // A follower never splits; bytes count like requests; writes do not count.
  const other = fakeStore({ ...r, id: 10 });
  const ctl2 = new LoadSplitController(
    other.store,
    runner,
    () => ({ qps: 1e9, bytes: 1000, detectTimes: 1 }),
    () => undefined,
    () => now,
  );
  other.leader.value = false;
  for (let i = 0; i < 20; i++) other.store.flow.onRead(10, { start: k(i) }, 1, 100);
  now += 1000;
  assert.deepEqual(ctl2.tick(), []);
  other.leader.value = true;
  // Writes alone, however many, never make a split candidate: a split cannot spread them.
  for (let i = 0; i < 20; i++) other.store.flow.onWrite(10, 1, 100);
  now += 1000;
  assert.deepEqual(ctl2.tick(), []);
  for (let i = 0; i < 20; i++) other.store.flow.onRead(10, { start: k(i) }, 1, 100);
  now += 1000;
  assert.deepEqual(ctl2.tick(), [10]);
});

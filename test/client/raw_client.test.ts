// RawClient against fake stores that are real gRPC servers: every operation across
// Region boundaries, and the cache repairing itself from each region error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, type RawClientOptions } from '../../src/client/raw_client.js';
import {
  InvalidArgumentError,
  KeyTooLargeError,
  ServerError,
  ValueTooLargeError,
} from '../../src/client/errors.js';
import { FakeCluster } from './fake_cluster.js';

const b = (s: string) => Buffer.from(s);
const str = (x: Buffer | undefined) => x?.toString();

async function setup(
  t: { after: (fn: () => void) => void },
  options: RawClientOptions = {},
  splits = ['g', 'p'],
): Promise<{ cluster: FakeCluster; client: RawClient }> {
  const cluster = await FakeCluster.start(3, splits);
  const client = new RawClient(cluster.pd, {
    timeoutMs: 5000,
    backoff: { random: () => 0.5 },
    ...options,
  });
  t.after(() => {
    client.close();
    cluster.close();
  });
  return { cluster, client };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz'.split('');

test('put, get, delete and empty values', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('apple', 'red');
  await client.put('zebra', '');
  assert.equal(str(await client.get('apple')), 'red');
  assert.deepEqual(await client.get('zebra'), Buffer.alloc(0), 'an empty value is a value');
  assert.equal(await client.get('missing'), undefined);
  await client.delete('apple');
  assert.equal(await client.get('apple'), undefined);
  assert.equal(str(cluster.value('zebra')), '');
});

test('arguments are checked before anything is sent', async (t) => {
  const { cluster, client } = await setup(t, { maxKeyBytes: 16, maxValueBytes: 32 });
  await assert.rejects(client.get(''), InvalidArgumentError);
  await assert.rejects(client.put(Buffer.alloc(0), 'v'), /key must not be empty/);
  await assert.rejects(client.put('k'.repeat(17), 'v'), KeyTooLargeError);
  await assert.rejects(client.put('k', 'v'.repeat(33)), ValueTooLargeError);
  await assert.rejects(client.batchGet(['a', '']), InvalidArgumentError);
  await assert.rejects(client.scan('z', 'a'), /start is after its end/);
  await assert.rejects(client.scan('a', 'z', { limit: -1 }), InvalidArgumentError);
  assert.equal(cluster.pd.calls.getRegion + cluster.totalBatchRequests(), 0);
});

test('scans across three Regions, forward and reverse, with limits', async (t) => {
  // scanBatchSize 2 also makes every Region answer in several pieces.
  const { cluster, client } = await setup(t, { scanBatchSize: 2 });
  await client.batchPut(ALPHABET.map((c) => [c, c.toUpperCase()] as const));
  assert.equal(cluster.regions.size, 3);
  for (const fr of cluster.regions.values()) assert.ok(fr.data.size > 0, 'every Region has keys');

  const keys = async (start: string, end?: string, o = {}) =>
    (await client.scan(start, end, o)).map((p) => p.key.toString()).join('');

  assert.equal(await keys(''), ALPHABET.join(''));
  assert.equal(await keys('', undefined, { reverse: true }), [...ALPHABET].reverse().join(''));
  assert.equal(await keys('e', 'r'), 'efghijklmnopq');
  assert.equal(await keys('e', 'r', { reverse: true }), 'qponmlkjihgfe');
  assert.equal(await keys('e', 'r', { limit: 5 }), 'efghi');
  assert.equal(await keys('e', 'r', { limit: 5, reverse: true }), 'qponm');
  assert.equal(await keys('f', 'q', { limit: 8 }), 'fghijklm', 'a limit spanning a boundary');
  assert.equal(await keys('f', 'q', { limit: 8, reverse: true }), 'ponmlkji');
  assert.equal(await keys('g', 'p'), 'ghijklmno', 'exactly one Region');
  assert.equal(await keys('g', 'p', { reverse: true }), 'onmlkjihg');
  assert.equal(await keys('x', 'x'), '');
  assert.equal(await keys('', 'b', { reverse: true }), 'a');

  const pairs = await client.scan('y', undefined);
  assert.deepEqual(
    pairs.map((p) => [str(p.key), str(p.value)]),
    [
      ['y', 'Y'],
      ['z', 'Z'],
    ],
  );
  const keyOnly = await client.scan('a', 'c', { keyOnly: true });
  assert.deepEqual(
    keyOnly.map((p) => [str(p.key), p.value.length]),
    [
      ['a', 0],
      ['b', 0],
    ],
  );
});

test('batchGet and batchPut group keys by Region and run them in parallel', async (t) => {
  const { cluster, client } = await setup(t);
  await client.batchPut([
    ['b', '1'],
    ['h', '2'],
    ['q', '3'],
    ['c', '4'],
    ['b', '5'], // a key given twice keeps its last value
  ]);
  assert.equal(str(cluster.value('b')), '5');
  assert.equal(str(cluster.value('q')), '3');
  // One request per Region: three Regions, three requests.
  assert.equal(cluster.totalBatchRequests(), 3);

  const k = b('h');
  const got = await client.batchGet(['b', 'c', k, 'q', 'nope', 'b']);
  assert.deepEqual(
    [...got.entries()].map(([key, v]) => [str(Buffer.from(key)), str(v)]),
    [
      ['b', '5'],
      ['c', '4'],
      ['h', '2'],
      ['q', '3'],
    ],
  );
  assert.equal(str(got.get(k)), '2', 'Buffer keys are found by identity');
  assert.equal(got.has('nope'), false);
  assert.equal((await client.batchGet([])).size, 0);
});

test('deleteRange is split across Regions', async (t) => {
  const { client } = await setup(t);
  await client.batchPut(ALPHABET.map((c) => [c, c] as const));
  await client.deleteRange('e', 'r');
  const left = (await client.scan('')).map((p) => p.key.toString()).join('');
  assert.equal(left, 'abcdrstuvwxyz');
  await client.deleteRange('t');
  assert.equal((await client.scan('')).map((p) => p.key.toString()).join(''), 'abcdrs');
});

test('compareAndSwap: absent, match, mismatch', async (t) => {
  const { client } = await setup(t);
  assert.deepEqual(await client.compareAndSwap('lock', null, 'me'), {
    succeeded: true,
    previous: undefined,
  });
  const lost = await client.compareAndSwap('lock', null, 'you');
  assert.equal(lost.succeeded, false);
  assert.equal(str(lost.previous), 'me');
  const swapped = await client.compareAndSwap('lock', 'me', 'you');
  assert.equal(swapped.succeeded, true);
  assert.equal(str(swapped.previous), 'me');
  const wrong = await client.compareAndSwap('lock', 'me', 'again');
  assert.equal(wrong.succeeded, false);
  assert.equal(str(wrong.previous), 'you');
  assert.equal(str(await client.get('lock')), 'you');
});

test('NotLeader with a hint switches the leader without asking PD', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('a', '1');
  const region = cluster.regionOf('a').region.id;
  const pdCalls = cluster.pd.calls.getRegion;
  cluster.setLeader(region, 3);
  assert.equal(str(await client.get('a')), '1');
  assert.equal(cluster.store(1).answered.get('NotLeader'), 1);
  assert.equal(client.cache.lookup(b('a'))!.leader.storeId, 3);
  assert.equal(cluster.pd.calls.getRegion, pdCalls, 'the hint was enough');
  await client.put('a', '2');
  assert.equal(cluster.store(1).answered.get('NotLeader'), 1, 'the cache remembers');
});

test('NotLeader without a hint tries the other peers until the election ends', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('m', '1');
  const region = cluster.regionOf('m').region.id;
  cluster.setLeader(region, 0);
  setTimeout(() => cluster.setLeader(region, 2), 150);
  const started = Date.now();
  assert.equal(str(await client.get('m')), '1');
  assert.ok(Date.now() - started >= 140);
  assert.ok((cluster.store(1).answered.get('NotLeader') ?? 0) >= 1);
  assert.equal(client.cache.lookup(b('m'))!.leader.storeId, 2);
});

test('EpochNotMatch after a split: the cache takes the current Regions from the store', async (t) => {
  const { cluster, client } = await setup(t);
  await client.batchPut(ALPHABET.map((c) => [c, c] as const));
  const pdCalls = { ...cluster.pd.calls };
  const right = cluster.split('k'); // [g, p) becomes [g, k) and [k, p)
  assert.equal(str(await client.get('m')), 'm');
  assert.equal(cluster.store(1).answered.get('EpochNotMatch'), 1);
  const loc = client.cache.lookup(b('m'))!;
  assert.equal(loc.region.id, right);
  assert.equal(loc.region.startKey.toString(), 'k');
  assert.equal(client.cache.lookup(b('h'))!.region.endKey.toString(), 'k');
  assert.deepEqual(cluster.pd.calls, pdCalls, 'no PD round trip');

  // Multi-key calls regroup after the split.
  cluster.split('c');
  await client.batchPut([
    ['a', 'A'],
    ['d', 'D'],
    ['h', 'H'],
    ['l', 'L'],
  ]);
  assert.equal(str(cluster.value('d')), 'D');
  assert.equal(str(cluster.value('l')), 'L');
  const got = await client.batchGet(['a', 'd', 'h', 'l']);
  assert.deepEqual([...got.values()].map(str), ['A', 'D', 'H', 'L']);
  assert.equal(
    (await client.scan('', undefined, { reverse: true })).map((p) => str(p.key)).join(''),
    [...ALPHABET].reverse().join(''),
  );
  assert.equal(client.cache.size, 5);
});

test('KeyNotInRegion, RegionNotFound and StoreNotMatch drop the entry and reload from PD', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('h', '1');
  const r = cluster.regionOf('h').region;
  const faults = [
    {
      kind: 'KeyNotInRegion' as const,
      key: b('h'),
      regionId: r.id,
      startKey: r.startKey,
      endKey: r.endKey,
    },
    { kind: 'RegionNotFound' as const, regionId: r.id },
    { kind: 'StoreNotMatch' as const, requestStoreId: 1, actualStoreId: 9 },
  ];
  for (const regionError of faults) {
    const before = cluster.pd.calls.getRegion;
    cluster.store(1).faults.push({ regionError });
    assert.equal(str(await client.get('h')), '1', regionError.kind);
    assert.equal(cluster.pd.calls.getRegion, before + 1, `${regionError.kind} reloads from PD`);
  }
  // Once at the start, once more after StoreNotMatch made it forget the address.
  assert.equal(cluster.pd.calls.getStore, 2);
});

test('ServerIsBusy: backs off for the time the store asked, then succeeds', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('s', '1');
  cluster.store(1).faults.push({
    regionError: { kind: 'ServerIsBusy', reason: 'apply queue full', backoffMs: 120 },
  });
  const started = Date.now();
  await client.put('s', '2');
  assert.ok(Date.now() - started >= 115, 'honours backoff_ms');
  assert.equal(str(cluster.value('s')), '2');
});

test('a response error string surfaces as a ServerError without retries', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('e', '1');
  cluster.store(1).faults.push({ error: 'disk full' });
  const before = cluster.totalBatchRequests();
  await assert.rejects(
    client.put('e', '2'),
    (e) => e instanceof ServerError && /disk full/.test(e.message),
  );
  assert.equal(cluster.totalBatchRequests(), before + 1);
});

test('unary calls work as well as BatchCommands', async (t) => {
  const { cluster, client } = await setup(t, { useBatchCommands: false });
  await client.batchPut(ALPHABET.map((c) => [c, c] as const));
  cluster.setLeader(cluster.regionOf('x').region.id, 2);
  assert.equal(str(await client.get('x')), 'x');
  assert.equal((await client.scan('f', 'h', { reverse: true })).length, 2);
  assert.equal(cluster.totalBatchRequests(), 0);
  assert.ok(cluster.store(1).unaryCalls > 0);
});

test('the package entry point exports the SDK, and close() ends every call', async (t) => {
  const { client: sdk } = await import('../../src/index.js');
  const cluster = await FakeCluster.start(3, ['m']);
  t.after(() => cluster.close());
  const client = sdk.createRawClient({ pd: cluster.pd, timeoutMs: 2000 });
  await client.put('hello', 'world');
  assert.equal(str(await client.get('hello')), 'world');
  client.close();
  await assert.rejects(client.get('hello'), sdk.ClientClosedError);
  assert.ok(sdk.RegionUnavailableError.prototype instanceof sdk.NyxError);
});

// The Collector against fake HTTP answers (the layer below it): rates and p99 from two
// scrapes, stores and PD going away and coming back, events from the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Collector, isReadMethod, type HttpGet } from '../../src/ui/collect.js';
import type { PdClusterView } from '../../src/ui/snapshot.js';
import { pdView, storePage, viewRegion, viewStore } from './fixtures.js';

/** A store's /metrics: `gets` reads and `puts` writes, all observed in the 5 ms bucket except `slow` puts at 0.5 s. */
function storeMetrics(gets: number, puts: number, slow = 0, txn = TXN_NONE): string {
  const h = 'nyx_grpc_request_duration_seconds';
  const lines = [
    `# TYPE ${h} histogram`,
    `${h}_bucket{le="0.005",method="Batch.rawGet",code="ok"} ${gets}`,
    `${h}_bucket{le="0.5",method="Batch.rawGet",code="ok"} ${gets}`,
    `${h}_bucket{le="+Inf",method="Batch.rawGet",code="ok"} ${gets}`,
    `${h}_count{method="Batch.rawGet",code="ok"} ${gets}`,
    `${h}_bucket{le="0.005",method="RawPut",code="ok"} ${puts - slow}`,
    `${h}_bucket{le="0.5",method="RawPut",code="ok"} ${puts}`,
    `${h}_bucket{le="+Inf",method="RawPut",code="ok"} ${puts}`,
    `${h}_count{method="RawPut",code="ok"} ${puts}`,
    'nyx_store_disk_capacity_bytes 1000',
    'nyx_store_disk_available_bytes 400',
    `nyx_txn_committed_total{path="2pc"} ${txn.twoPc}`,
    `nyx_txn_committed_total{path="1pc"} ${txn.onePc}`,
    `nyx_txn_commands_total{command="Prewrite",outcome="ok"} ${txn.twoPc + txn.onePc}`,
    `nyx_txn_commands_total{command="Prewrite",outcome="key_error:conflict"} ${txn.conflicts}`,
    `nyx_txn_commands_total{command="Prewrite",outcome="key_error:locked"} ${txn.locked}`,
  ];
  return lines.join('\n') + '\n';
}

const TXN_NONE = { twoPc: 0, onePc: 0, conflicts: 0, locked: 0 };

class FakeCluster {
  clock = 1_000_000;
  view: PdClusterView = pdView(
    [viewStore(1), viewStore(2)],
    [viewRegion(4, '', 'm', [1, 2], 1), viewRegion(8, 'm', '', [1, 2], 2)],
  );
  tso = 0;
  operatorsEnded = 0;
  txn = new Map([
    [1, TXN_NONE],
    [2, TXN_NONE],
  ]);
  applied = 10;
  metrics = new Map([
    [1, { gets: 0, puts: 0, slow: 0 }],
    [2, { gets: 0, puts: 0, slow: 0 }],
  ]);
  down = new Set<string>();
  requests: string[] = [];

  get: HttpGet = async (url) => {
    this.requests.push(url);
    const u = new URL(url);
    if (this.down.has(u.host))
      throw Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    if (u.host === '127.0.0.1:2378') {
      if (u.pathname === '/cluster') return JSON.stringify({ ...this.view, nowMs: this.clock });
      if (u.pathname === '/metrics') {
        return (
          `nyx_pd_tso_timestamps_total ${this.tso}\n` +
          `nyx_pd_operators_total{kind="transfer-leader",status="finished"} ${this.operatorsEnded}\n` +
          `nyx_pd_operators_total{kind="add-peer",status="timeout"} 1\n`
        );
      }
    }
    const store = this.view.stores.find((s) => s.statusAddress === u.host);
    if (store && u.pathname === '/status') {
      return JSON.stringify(storePage(store.id, this.view, () => ({ applied: this.applied })));
    }
    if (store && u.pathname === '/metrics') {
      const m = this.metrics.get(store.id)!;
      return storeMetrics(m.gets, m.puts, m.slow, this.txn.get(store.id));
    }
    throw new Error(`404 from ${url}`);
  };

  collector(): Collector {
    return new Collector({
      pdAddress: '127.0.0.1:2379',
      pdStatusAddress: '127.0.0.1:2378',
      get: this.get,
      now: () => this.clock,
    });
  }
}

test('read methods are gets and scans, unary or batched', () => {
  for (const m of ['RawGet', 'RawBatchGet', 'RawScan', 'Batch.rawGet', 'Batch.rawScan']) {
    assert.ok(isReadMethod(m), m);
  }
  for (const m of ['RawPut', 'RawDelete', 'RawCompareAndSwap', 'Batch.rawBatchPut']) {
    assert.ok(!isReadMethod(m), m);
  }
});

test('rates, p99 and TSO rate come from two scrapes; the first has none', async () => {
  const f = new FakeCluster();
  const c = f.collector();
  const first = await c.collect();
  assert.equal(first.totals.readsPerSec, null);
  assert.equal(first.totals.p99Ms, null);
  assert.equal(first.stores[0].usedBytes, 600);
  assert.equal(first.pd.clusterId, 7);

  f.clock += 2000;
  f.tso = 400;
  f.applied = 30;
  f.metrics.set(1, { gets: 200, puts: 100, slow: 0 });
  // Store 2: 100 puts, 5 of them slow: its p99 lands in the (5 ms, 500 ms] bucket.
  f.metrics.set(2, { gets: 0, puts: 100, slow: 5 });
  const s = await c.collect();
  const [s1, s2] = s.stores;
  assert.equal(s1.readsPerSec, 100);
  assert.equal(s1.writesPerSec, 50);
  assert.ok(s1.p99Ms! > 0 && s1.p99Ms! <= 5, `store 1 p99 ${s1.p99Ms}`);
  assert.ok(s2.p99Ms! > 5 && s2.p99Ms! <= 500, `store 2 p99 ${s2.p99Ms}`);
  assert.equal(s.totals.readsPerSec, 100);
  assert.equal(s.totals.writesPerSec, 100);
  assert.equal(s.totals.tsoPerSec, 200);
  // 400 requests, 5 slow: rank 396 is past the 395 fast ones, inside the slow bucket.
  assert.ok(s.totals.p99Ms! > 5, `cluster p99 ${s.totals.p99Ms}`);
  assert.deepEqual(
    s.regions.map((r) => [r.id, r.writesPerSec]),
    [
      [4, 10],
      [8, 10],
    ],
  );
  assert.deepEqual(s1.history.writes, [null, 50]);
  assert.equal(s.totals.storesUp, 2);
});

test('a store that stops answering is shown as such, with an event, and comes back', async () => {
  const f = new FakeCluster();
  const c = f.collector();
  await c.collect();
  f.down.add('127.0.0.1:20182');
  f.clock += 1000;
  const s = await c.collect();
  const s2 = s.stores.find((x) => x.id === 2)!;
  assert.equal(s2.reachable, false);
  assert.equal(s2.error, 'ECONNREFUSED');
  assert.equal(s2.readsPerSec, null);
  assert.equal(s2.regions, 1, "PD's count stands in for the store's own");
  assert.equal(
    s.regions.find((r) => r.id === 8)!.peers.find((p) => p.storeId === 2)!.raftRole,
    null,
  );
  assert.match(s.events[0].text, /store 2 status port unreachable: ECONNREFUSED/);

  f.down.clear();
  f.clock += 1000;
  const back = await c.collect();
  assert.equal(back.stores.find((x) => x.id === 2)!.reachable, true);
  assert.match(back.events[0].text, /store 2 status port answers again/);
  assert.equal(back.events.length, 2, 'events accumulate, newest first');
});

test('without PD the last known map stays, stores are still scraped, heartbeat ages grow', async () => {
  const f = new FakeCluster();
  const c = f.collector();
  await c.collect();
  f.down.add('127.0.0.1:2378');
  f.clock += 20_000;
  const s = await c.collect();
  assert.equal(s.pd.reachable, false);
  assert.equal(s.pd.error, 'ECONNREFUSED');
  assert.equal(s.pd.clusterId, 7);
  assert.equal(s.stores.length, 2);
  assert.ok(s.stores.every((x) => x.reachable));
  assert.equal(s.stores[0].heartbeatAgeMs, 20_500);
  assert.equal(s.stores[0].state, 'Disconnected');
  assert.equal(s.regions.length, 2);
  assert.equal(s.events[0].text, 'PD unreachable: ECONNREFUSED');
  assert.ok(f.requests.includes('http://127.0.0.1:20181/metrics'));
});

test('PD never reached: an empty snapshot that says so, not an exception', async () => {
  const f = new FakeCluster();
  f.down.add('127.0.0.1:2378');
  const s = await f.collector().collect();
  assert.equal(s.pd.reachable, false);
  assert.deepEqual(s.stores, []);
  assert.deepEqual(s.regions, []);
});

test('a split seen between two refreshes is an event and counts in splits per minute', async () => {
  const f = new FakeCluster();
  const c = f.collector();
  await c.collect();
  f.view = pdView(f.view.stores, [
    viewRegion(4, '', 'f', [1, 2], 1, { epoch: { confVer: 1, version: 2 } }),
    viewRegion(12, 'f', 'm', [1, 2], 1, { epoch: { confVer: 1, version: 2 } }),
    viewRegion(8, 'm', '', [1, 2], 2),
  ]);
  f.clock += 1000;
  const s = await c.collect();
  assert.equal(s.totals.splitsPerMin, 1);
  assert.equal(s.events[0].kind, 'split');
  assert.equal(s.events[0].regionId, 12);
});

test('transactions per second, conflicts and operators per minute come from two scrapes', async () => {
  const f = new FakeCluster();
  const c = f.collector();
  const first = await c.collect();
  assert.equal(first.totals.txnsPerSec, null);
  assert.equal(first.totals.conflictsPerMin, null);
  assert.equal(first.totals.operatorsPerMin, null);

  f.clock += 2000;
  f.txn.set(1, { twoPc: 30, onePc: 10, conflicts: 3, locked: 50 });
  f.txn.set(2, { twoPc: 20, onePc: 0, conflicts: 1, locked: 0 });
  f.operatorsEnded = 4;
  const s = await c.collect();
  // (30 + 10 + 20) commits in 2 s; (3 + 1) conflicts in 2 s (locked is not a conflict).
  assert.equal(s.totals.txnsPerSec, 30);
  assert.equal(s.totals.conflictsPerMin, 120);
  // 4 operators ended in 2 s.
  assert.equal(s.totals.operatorsPerMin, 120);
});

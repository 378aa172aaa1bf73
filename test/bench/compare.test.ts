// The comparison's pure pieces: the ratio rows, the layout's split keys (they must cut
// the workload's keys), the /proc CPU parsing, the case list, finding etcd, and the leader
// layout reported beside each NyxDB case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterWarmupCases, parseCases } from '../../src/bench/compare.js';
import { compareRows, renderCompareTable } from '../../src/bench/compare_table.js';
import { findEtcd } from '../../src/bench/etcd/cluster.js';
import { formatLeaderLayout, leaderLayout } from '../../src/bench/leader_layout.js';
import { PeerRole } from '../../src/region/meta.js';
import { parseProcStatCpu, processCpuSec } from '../../src/bench/proc_cpu.js';
import type { CaseSummary } from '../../src/bench/summary.js';
import { Workload, workloadKey, workloadSplitKeys } from '../../src/bench/workload.js';

function summary(op: string, concurrency: number, o: Partial<CaseSummary>): CaseSummary {
  return {
    op,
    concurrency,
    runs: 3,
    opsPerSec: 100,
    p50: 1,
    p90: 2,
    p99: 3,
    p999: 4,
    max: 5,
    clientCpuUsPerOp: 50,
    serverCpuUsPerOp: 1000,
    errors: 0,
    ...o,
  };
}

describe('compareRows', () => {
  test('NyxDB/etcd ratios per case and layout, and each layout against 1 Region', () => {
    const nyx = new Map([
      [1, [summary('put', 1, { opsPerSec: 300, p50: 2, p99: 6, serverCpuUsPerOp: 500 })]],
      [8, [summary('put', 1, { opsPerSec: 150, p50: 4, p99: 9, serverCpuUsPerOp: 2000 })]],
    ]);
    const etcd = [summary('put', 1, { opsPerSec: 200, p50: 4, p99: 3, serverCpuUsPerOp: 1000 })];
    const rows = compareRows(nyx, etcd);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0]!.ratio, { opsPerSec: 1.5, p50: 0.5, p99: 2, serverCpuUsPerOp: 0.5 });
    assert.equal(rows[0]!.vsOneRegion, 1);
    assert.equal(rows[1]!.regions, 8);
    assert.deepEqual(rows[1]!.ratio, { opsPerSec: 0.75, p50: 1, p99: 3, serverCpuUsPerOp: 2 });
    assert.equal(rows[1]!.vsOneRegion, 0.5);
    const table = renderCompareTable(rows);
    assert.match(table, /put c=1/);
    assert.match(table, /1\.50×/);
    assert.match(table, /0\.50×/);
  });

  test('cases are matched by op and concurrency; no etcd result gives no ratio', () => {
    const nyx = new Map([[1, [summary('get', 16, {}), summary('put', 16, {})]]]);
    const etcd = [summary('put', 16, { opsPerSec: 50 }), summary('get', 256, {})];
    const rows = compareRows(nyx, etcd);
    assert.equal(rows[0]!.etcd, undefined);
    assert.ok(Number.isNaN(rows[0]!.ratio.opsPerSec));
    assert.equal(rows[1]!.ratio.opsPerSec, 2);
    assert.match(renderCompareTable(rows), /get c=16 .*│ - /);
  });
});

describe('workloadSplitKeys', () => {
  test('8 Regions each hold an equal share of the workload keys', () => {
    const keys = 10_000;
    const splits = workloadSplitKeys(8, keys).map((k) => Buffer.from(k));
    assert.equal(splits.length, 7);
    const w = new Workload({ op: 'put', keys, valueSize: 1, readRatio: 0 });
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < keys; i++) {
      const k = w.keyAt(i);
      counts[splits.filter((s) => Buffer.compare(k, s) >= 0).length]!++;
    }
    assert.deepEqual(counts, new Array<number>(8).fill(1250));
    assert.equal(workloadKey(1250, keys), 'bench/1250');
    assert.equal(workloadKey(7, keys), 'bench/0007');
  });

  test('uneven counts still cover every key; one Region needs no split key', () => {
    const splits = workloadSplitKeys(3, 10);
    assert.deepEqual(splits, ['bench/3', 'bench/6']);
    assert.deepEqual(workloadSplitKeys(1, 10), []);
    assert.throws(() => workloadSplitKeys(11, 10), /cannot cut 10 keys into 11 Regions/);
  });
});

describe('server CPU from /proc', () => {
  test('utime + stime counted after the command name, which may hold spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[11] = '250'; // utime (field 14)
    fields[12] = '50'; // stime (field 15)
    const line = `4242 (node (x) y) ${fields.join(' ')}`;
    assert.equal(parseProcStatCpu(line, 100), 3);
    assert.throws(() => parseProcStatCpu('garbage', 100), /not a \/proc/);
  });

  test('this process is measured; a pid that is gone is NaN', () => {
    const [self, gone] = processCpuSec([process.pid, 0x7ffffffe]);
    assert.ok(self! >= 0);
    assert.ok(Number.isNaN(gone));
  });
});

describe('parseCases and findEtcd', () => {
  test('the cross product of ops and concurrencies, in order', () => {
    assert.deepEqual(parseCases('put,get', '1,256'), [
      { op: 'put', concurrency: 1 },
      { op: 'put', concurrency: 256 },
      { op: 'get', concurrency: 1 },
      { op: 'get', concurrency: 256 },
    ]);
    assert.throws(() => parseCases('scan', '1'), /unknown op scan/);
    assert.throws(() => parseCases('put', '0'), /bad value 0/);
  });

  test('a fresh cluster warms up with each op of the cases at c=16, sharing the time', () => {
    const cases = parseCases('put,get', '1,256');
    assert.deepEqual(clusterWarmupCases(cases, 10), [
      { op: 'put', concurrency: 16, durationSec: 5 },
      { op: 'get', concurrency: 16, durationSec: 5 },
    ]);
    assert.deepEqual(clusterWarmupCases(parseCases('get', '1'), 1), [
      { op: 'get', concurrency: 16, durationSec: 1 },
    ]);
    assert.deepEqual(clusterWarmupCases(cases, 1), [
      { op: 'put', concurrency: 16, durationSec: 1 },
      { op: 'get', concurrency: 16, durationSec: 1 },
    ]);
    assert.deepEqual(clusterWarmupCases(cases, 0), []);
  });

  test('etcd from an explicit path or PATH; nothing when absent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'findetcd-'));
    try {
      assert.equal(findEtcd(undefined, dir), undefined);
      const bin = path.join(dir, 'etcd');
      fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
      assert.equal(findEtcd(undefined, `/nonexistent${path.delimiter}${dir}`), bin);
      assert.equal(findEtcd(bin, ''), bin);
      assert.equal(findEtcd(path.join(dir, 'nope'), dir), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nyx bench compare without etcd', () => {
  test('says how to get etcd and exits 2, installing and starting nothing', async () => {
    const { nyx } = await import('../cli/nyx.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noetcd-'));
    try {
      const r = await nyx(['bench', 'compare', '--data-dir', dir], {
        env: { PATH: dir },
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /install etcd-server \(apt-get install etcd-server\)/);
      assert.deepEqual(fs.readdirSync(dir), []);
      const explicit = await nyx(['bench', 'compare', '--etcd-bin', path.join(dir, 'etcd')]);
      assert.equal(explicit.code, 2);
      assert.match(explicit.stderr, /no etcd binary at/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('warmRegionCache', () => {
  test('reads keys spread over the whole key space, one at a time', async () => {
    const { warmRegionCache } = await import('../../src/bench/warm_cache.js');
    const w = new Workload({ op: 'put', keys: 10_000, valueSize: 1, readRatio: 0 });
    const read: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await warmRegionCache(
      {
        put: () => Promise.reject(new Error('no puts')),
        get: async (k) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setImmediate(r));
          inFlight--;
          read.push(k.toString());
        },
      },
      w,
    );
    assert.equal(maxInFlight, 1);
    assert.equal(read.length, 64);
    // Each of 8 equal Regions (workloadSplitKeys) gets probes.
    const splits = workloadSplitKeys(8, 10_000);
    for (let r = 0; r < 8; r++) {
      const lo = r === 0 ? '' : splits[r - 1]!;
      const hi = r === 7 ? '\uffff' : splits[r]!;
      assert.ok(
        read.some((k) => k >= lo && k < hi),
        `no probe in Region ${r}`,
      );
    }
  });
});

describe('leaderLayout', () => {
  const region = (id: number, leaderStore?: number) => ({
    region: {
      id,
      startKey: Buffer.alloc(0),
      endKey: Buffer.alloc(0),
      epoch: { confVer: 1, version: 1 },
      peers: [],
    },
    ...(leaderStore === undefined
      ? {}
      : { leader: { id: 100 + id, storeId: leaderStore, role: PeerRole.Voter } }),
  });

  test('counts leaders per store, stores without any included, in store order', () => {
    const l = leaderLayout([region(1, 3), region(2, 1), region(3, 3), region(4)], [1, 2, 3]);
    assert.deepEqual(l, { byStore: { '1': 1, '2': 0, '3': 2 }, none: 1 });
    assert.equal(formatLeaderLayout(l), '1/0/2 (1 without)');
    assert.equal(formatLeaderLayout(leaderLayout([region(1, 10), region(2, 9)], [10, 9])), '1/1');
  });
});

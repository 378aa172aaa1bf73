// The session records of exactly-once writes, over a real Region engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegionEngine } from '../../src/storage/region_engine.js';
import { ApplyBatch } from '../../src/store/apply_batch.js';
import {
  SessionTable,
  decodeSessionState,
  encodeSessionState,
} from '../../src/store/session_table.js';

const b = (s: string) => Buffer.from(s);

function engine(t: { after(f: () => void): void }): RegionEngine {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-sess-'));
  const e = new RegionEngine(dir, 1);
  t.after(() => {
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return e;
}

const opts = { ttlMs: 1000, maxRecordsPerSession: 4, maxKeptResultBytes: 8 };
let applied = 0;
function commit(batch: ApplyBatch, table: SessionTable): void {
  table.flush(batch);
  batch.commit({ appliedIndex: ++applied, appliedTerm: 1 });
}

test('records answer retries, survive reloads, and the floor follows lowestPending', (t) => {
  const e = engine(t);
  const table = new SessionTable(opts);
  let batch = new ApplyBatch(e);
  const s1 = { id: b('A'), seq: 1, lowestPending: 1 };
  assert.deepEqual(table.check(batch, s1, 100), { kind: 'apply' });
  table.record(s1, 100, { casSucceeded: true, casPrevious: b('old') });
  commit(batch, table);

  // A fresh table (a restarted store) reads the record from the engine.
  const reloaded = new SessionTable(opts);
  batch = new ApplyBatch(e);
  assert.deepEqual(reloaded.check(batch, s1, 200), {
    kind: 'duplicate',
    result: { casSucceeded: true, casPrevious: b('old') },
  });
  // Request 3 says 1 and 2 are answered: 1's record goes, 1 and 2 are refused from now on.
  const s3 = { id: b('A'), seq: 3, lowestPending: 3 };
  assert.deepEqual(reloaded.check(batch, s3, 200), { kind: 'apply' });
  reloaded.record(s3, 200, {});
  assert.deepEqual(reloaded.check(batch, { ...s1, lowestPending: 3 }, 200), {
    kind: 'gone',
    floor: 3,
  });
  assert.deepEqual(reloaded.check(batch, { id: b('A'), seq: 2, lowestPending: 3 }, 200), {
    kind: 'gone',
    floor: 3,
  });
  assert.deepEqual(reloaded.check(batch, s3, 200), { kind: 'duplicate', result: {} });
  // Other sessions are independent.
  assert.deepEqual(reloaded.check(batch, { id: b('B'), seq: 1, lowestPending: 1 }, 200), {
    kind: 'apply',
  });
});

test('beyond the record limit the oldest are evicted and refused; big results are forgotten', (t) => {
  const e = engine(t);
  const table = new SessionTable(opts);
  const batch = new ApplyBatch(e);
  // Many requests in flight at once (lowestPending stays 1).
  for (let seq = 1; seq <= 6; seq++) {
    const s = { id: b('A'), seq, lowestPending: 1 };
    assert.equal(table.check(batch, s, 10).kind, 'apply');
    table.record(s, 10, {});
  }
  assert.equal(table.check(batch, { id: b('A'), seq: 1, lowestPending: 1 }, 10).kind, 'gone');
  assert.equal(table.check(batch, { id: b('A'), seq: 2, lowestPending: 1 }, 10).kind, 'gone');
  assert.equal(table.check(batch, { id: b('A'), seq: 3, lowestPending: 1 }, 10).kind, 'duplicate');
  const big = { id: b('A'), seq: 7, lowestPending: 1 };
  table.check(batch, big, 10);
  table.record(big, 10, { casSucceeded: false, casPrevious: Buffer.alloc(9) });
  assert.equal(table.check(batch, big, 10).kind, 'gone', 'applied, result not kept');
});

test('sessions expire by log time, and garbage collection deletes only expired ones', (t) => {
  const e = engine(t);
  const table = new SessionTable(opts);
  let batch = new ApplyBatch(e);
  const old = { id: b('old'), seq: 1, lowestPending: 1 };
  const live = { id: b('live'), seq: 1, lowestPending: 1 };
  table.check(batch, old, 1000);
  table.record(old, 1000, {});
  table.check(batch, live, 1900);
  table.record(live, 1900, {});
  commit(batch, table);
  batch = new ApplyBatch(e);
  // At log time 2500 'old' (last active 1000, ttl 1000) has expired: a request is new again.
  assert.equal(table.check(batch, old, 2500).kind, 'apply');
  table.record(old, 2500, {});
  commit(batch, table);
  batch = new ApplyBatch(e);
  assert.equal(table.collectGarbage(batch, 2800), 0, 'nothing expired yet at 2800');
  assert.equal(table.collectGarbage(batch, 3100), 1, "'live' (last 1900) expires at 2900");
  commit(batch, table);
  assert.equal(e.get('session', b('live')), undefined);
  assert.ok(e.get('session', b('old')), "'old' was renewed at 2500");
});

test('the record codec round-trips every result shape', () => {
  const state = {
    lastActiveMs: 123456789,
    floor: 4,
    records: new Map<number, object | 'forgotten'>([
      [4, {}],
      [5, { casSucceeded: true, casPrevious: null }],
      [6, { casSucceeded: false, casPrevious: b('prev') }],
      [7, 'forgotten'],
    ]),
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  assert.deepEqual(decodeSessionState(encodeSessionState(state as any)), state);
});

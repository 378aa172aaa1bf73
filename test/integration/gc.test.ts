// GC on a real cluster (PD + 3 stores as processes): many versions are written, a short
// gc-life-time is set, and the old versions disappear from EVERY replica's Region file,
// while a long transaction's snapshot — held by its client's service safe point — still
// reads its versions; a read below the safe point fails with a clear error; once the
// long transaction ends, GC moves past it. `nyx gc status` shows it all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTxnClient } from '../../src/client/create_client.js';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import { TsBelowSafePointError } from '../../src/client/txn/txn_errors.js';
import { listRegionDbIds, regionDbPath } from '../../src/storage/paths.js';
import { decodeVersionKey } from '../../src/txn/mvcc/key_codec.js';
import { nyx } from '../cli/nyx.js';
import { TestCluster, eventually } from './cluster.js';

const KEYS = 20;
const key = (i: number) => `gc/k${String(i).padStart(2, '0')}`;

let c: TestCluster;
let t: TxnClient;
before(async () => {
  // The test reads the stores' Region files while they run.
  c = await TestCluster.start({ regions: 2, storeArgs: ['--no-lock-files'] });
  t = createTxnClient({ pd: c.pd, gcServiceId: 'gc-test-client', gcServiceTtlSec: 3 });
});
after(async () => {
  t.close();
  await c.stop();
});

async function writeVersion(v: number): Promise<bigint> {
  const txn = await t.begin();
  for (let i = 0; i < KEYS; i++) await txn.put(key(i), `v${v}`);
  return txn.commit();
}

/** Write records of the gc/ keys in every store's Region files, per store. */
function writeRowsPerStore(): number[] {
  return c.storeNames().map((name) => {
    const dataDir = path.join(c.dir, name);
    let rows = 0;
    for (const id of listRegionDbIds(dataDir)) {
      const db = new Database(regionDbPath(dataDir, id), { readonly: true, fileMustExist: true });
      try {
        const all = db.prepare('SELECT key FROM "write"').all() as { key: Buffer }[];
        rows += all.filter((r) => decodeVersionKey(r.key).key.toString().startsWith('gc/')).length;
      } finally {
        db.close();
      }
    }
    return rows;
  });
}

/** Every replica (store) holds exactly n write records of the gc/ keys. */
async function rowsBecome(n: number): Promise<void> {
  let last: number[] = [];
  await eventually(
    `${n} write records on every replica`,
    async () => {
      last = writeRowsPerStore();
      return last.every((x) => x === n) || undefined;
    },
    30_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last: ${last.join(', ')})`);
  });
}

test('old versions go on every replica; a long transaction still reads; below the safe point fails', async () => {
  const firstCommit = await writeVersion(0);
  for (let v = 1; v < 5; v++) await writeVersion(v);
  const long = await t.begin();
  assert.equal((await long.get(key(3)))?.toString(), 'v4');
  for (let v = 5; v < 8; v++) await writeVersion(v);
  await rowsBecome(KEYS * 8);

  const pd = c.pdClient();
  await pd.setConfig('gc-run-interval', '200ms');
  await pd.setConfig('gc-life-time', '1s');

  // The long transaction's service safe point holds S at its start_ts: v4 (the newest
  // version at or below it) and everything after stay; v0..v3 go, on every replica.
  await rowsBecome(KEYS * 4);
  const status = await pd.getGcStatus();
  assert.equal(status.safePoint, long.startTs);
  assert.deepEqual(
    status.services.map((s) => [s.serviceId, s.safePoint]),
    [['gc-test-client', long.startTs]],
  );
  assert.equal((await long.get(key(3)))?.toString(), 'v4', 'its snapshot still reads');
  await assert.rejects(t.snapshot(firstCommit).get(Buffer.from(key(3))), (e: unknown) => {
    assert.ok(e instanceof TsBelowSafePointError, String(e));
    assert.match(e.message, new RegExp(`timestamp ${firstCommit} is below the GC safe point`));
    return true;
  });

  // The long transaction ends: its registration goes, S follows the clock, one version
  // per key is left everywhere.
  await long.rollback();
  await rowsBecome(KEYS);
  const run = await eventually(
    'nyx gc status to show the rounds',
    async () => {
      const r = await nyx(['gc', 'status', '--pd', c.pd, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as {
        safePoint: string;
        services: unknown[];
        stores: { regionsDone: number; regionsLed: number; versionsDeleted: number }[];
      };
      assert.ok(BigInt(s.safePoint) > long.startTs);
      assert.equal(s.stores.length, 3);
      assert.equal(
        s.stores.reduce((a, x) => a + x.versionsDeleted, 0),
        KEYS * 7,
        'leaders deleted seven old versions per key in all',
      );
      return s;
    },
    30_000,
  );
  assert.deepEqual(run.services, []);
  const text = await nyx(['gc', 'status', '--pd', c.pd]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /safe point/);
  assert.match(text.stdout, /versions deleted/);
});

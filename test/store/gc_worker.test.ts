// The store's GC worker (src/store/gc_worker.ts) and TxnKv's GC step, over three
// in-process stores on real engines (the layer below) with a PD that answers a safe
// point: bounded batches, the same deletions on every replica, progress remembered per
// Region, old locks settled first, reads below the safe point refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GC_BATCH_KEYS, TxnKv } from '../../src/store/txn_kv.js';
import { GcWorker } from '../../src/store/gc_worker.js';
import type { StoreGcProgress } from '../../src/pd/gc/safe_point.js';
import { KeyError } from '../../src/txn/errors.js';
import { useTxnCluster } from './txn_cluster.js';

const b = (s: string) => Buffer.from(s);

const cluster = useTxnCluster();

/** Commits `versions` Puts of each key, one transaction per version; returns the next ts. */
async function writeVersions(
  kv: TxnKv,
  ctx: { regionId: number; epoch: { confVer: number; version: number } },
  keys: string[],
  versions: number,
  ts = 10n,
): Promise<bigint> {
  for (let v = 0; v < versions; v++) {
    const mutations = keys.map((k) => ({ op: 'put' as const, key: b(k), value: b(`${k}@${v}`) }));
    const r = await kv.prewrite(ctx, {
      mutations,
      primary: b(keys[0]!),
      startTs: ts,
      lockTtl: 3000,
    });
    assert.deepEqual(r.errors, []);
    await kv.commit(ctx, keys.map(b), ts, ts + 1n);
    ts += 10n;
  }
  return ts;
}

const keyNames = (n: number) =>
  Array.from({ length: n }, (_, i) => `k${String(i).padStart(3, '0')}`);

test('a GC step deletes the garbage of at most GC_BATCH_KEYS keys, then says where to go on', async () => {
  const { kv, ctx } = await cluster();
  const keys = keyNames(GC_BATCH_KEYS * 2 + 10);
  const after = await writeVersions(kv, ctx, keys, 3);
  const deletedPerStep: number[] = [];
  let cursor: Buffer | undefined = Buffer.alloc(0);
  while (cursor) {
    const step = await kv.gcStep(ctx, after, cursor);
    deletedPerStep.push(step.deleted);
    cursor = step.next;
  }
  // Two old versions per key; a step covers 64 keys.
  assert.deepEqual(deletedPerStep.slice(0, 3), [GC_BATCH_KEYS * 2, GC_BATCH_KEYS * 2, 20]);
  assert.equal(
    deletedPerStep.reduce((a, x) => a + x, 0),
    keys.length * 2,
  );
});

test('the worker collects each led Region once per safe point, on every replica; reads below fail', async () => {
  const { net, kv, ctx, leader } = await cluster();
  const keys = keyNames(100);
  const after = await writeVersions(kv, ctx, keys, 4);
  // A dead transaction's lock below the safe point: it must be settled first.
  const dead = await kv.prewrite(ctx, {
    mutations: [{ op: 'put', key: b('dead'), value: b('x') }],
    primary: b('dead'),
    startTs: after,
    lockTtl: 1,
  });
  assert.deepEqual(dead.errors, []);
  const safePoint = after + 100n;

  const reports: Omit<StoreGcProgress, 'reportedMs'>[] = [];
  const resolved: bigint[] = [];
  const worker = new GcWorker(
    1,
    kv,
    () => leader.store.peers.values(),
    {
      getGcSafePoint: async (p) => {
        reports.push(p);
        return safePoint;
      },
    },
    // The resolver below the worker: the dead transaction is rolled back at its primary.
    async (locks) => {
      for (const l of locks) {
        resolved.push(l.startTs);
        await kv.resolveLock(ctx, new Map([[l.startTs, 0n]]), [l.key]);
      }
    },
    undefined,
    { intervalMs: () => 10, stepsPerSecond: 1000 },
  );
  await worker.runOnce();
  assert.deepEqual(resolved, [after]);
  const p = worker.progress();
  assert.equal(
    p.versionsDeleted,
    100 * 3 + 1,
    'three old versions per key, and the rollback record',
  );
  assert.equal(p.locksResolved, 1);
  assert.deepEqual([p.regionsDone, p.regionsLed, p.doneSafePoint], [1, 1, safePoint]);
  for (const s of net.stores.values()) {
    const engine = s.store.peers.get(1)!.engine;
    await waitFor(() => engine.count('write') === 100 && engine.count('lock') === 0);
  }
  assert.equal((await kv.get(ctx, b('k042'), safePoint))?.toString(), 'k042@3');
  await assert.rejects(kv.get(ctx, b('k042'), safePoint - 1n), (e: unknown) => {
    assert.ok(e instanceof KeyError && e.detail.kind === 'tsBelowSafePoint');
    assert.match(e.message, /below the GC safe point/);
    return true;
  });

  // Done at this safe point: the next round reports and does nothing more.
  await worker.runOnce();
  assert.equal(worker.progress().versionsDeleted, p.versionsDeleted);
  assert.equal(reports.length, 2);
  assert.equal(reports[1]!.doneSafePoint, safePoint, 'the report says where it finished');
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

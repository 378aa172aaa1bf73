// TxnKv on the store loop: three in-process stores on real engines and an in-memory
// transport (the layer below): actions are atomic per key under concurrency, their writes
// replicate, async-commit memory locks close the read window, GC removes old versions on
// every replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionError } from '../../src/region/errors.js';
import { TxnKv } from '../../src/store/txn_kv.js';
import { KeyError } from '../../src/txn/errors.js';
import { MvccReader } from '../../src/txn/mvcc/reader.js';
import { useTxnCluster } from '../store/txn_cluster.js';

const b = (s: string) => Buffer.from(s);

const cluster = useTxnCluster();

const putArgs = (key: string, value: string, startTs: bigint) => ({
  mutations: [{ op: 'put' as const, key: b(key), value: b(value) }],
  primary: b(key),
  startTs,
  lockTtl: 3000,
});

test('many racing prewrites of one key: exactly one wins, the rest meet its lock', async () => {
  const { kv, ctx } = await cluster();
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => kv.prewrite(ctx, putArgs('k', `v${i}`, 10n + BigInt(i)))),
  );
  const winners = results.filter((r) => r.errors.length === 0);
  assert.equal(winners.length, 1);
  for (const r of results.filter((x) => x.errors.length > 0)) {
    assert.equal(r.errors[0]!.detail.kind, 'locked');
  }
});

test('commit replicates: every replica holds the version; reads see it from commit_ts on', async () => {
  const { net, kv, ctx } = await cluster();
  assert.deepEqual((await kv.prewrite(ctx, putArgs('k', 'v', 10n))).errors, []);
  await kv.commit(ctx, [b('k')], 10n, 20n);
  assert.equal(await kv.get(ctx, b('k'), 19n), undefined);
  assert.equal((await kv.get(ctx, b('k'), 20n))?.toString(), 'v');
  for (const s of net.stores.values()) {
    const peer = s.store.peers.get(1)!;
    await waitFor(() => new MvccReader(peer.engine).getValue(b('k'), 20n)?.toString() === 'v');
  }
  // Not in the raw table, not for raw reads.
  assert.equal(net.stores.get(1)!.store.peers.get(1)!.engine.count('raw'), 0);
});

test('a key outside the Region, or a stale epoch, is a region error', async () => {
  const { kv, ctx } = await cluster();
  await assert.rejects(
    kv.prewrite({ ...ctx, epoch: { confVer: 1, version: 0 } }, putArgs('k', 'v', 10n)),
    RegionError,
  );
  await assert.rejects(kv.get({ ...ctx, regionId: 9 }, b('k'), 5n), RegionError);
});

test('a read while an async-commit prewrite is in flight meets its memory lock', async () => {
  const { kv, ctx } = await cluster();
  const p = kv.prewrite(ctx, { ...putArgs('k', 'v', 10n), useAsyncCommit: true });
  await waitFor(() => kv.cm.memoryLockCount > 0, 1);
  // min_commit_ts is 11: a read at 20 must not miss a commit at 11.
  await assert.rejects(kv.get(ctx, b('k'), 20n), (e: unknown) => {
    assert.ok(e instanceof KeyError && e.detail.kind === 'locked');
    return true;
  });
  // Batch reads and scans answer the memory-locked key in its place.
  const pairs = await kv.batchGet(ctx, [b('k'), b('other')], 20n);
  assert.equal(pairs.length, 1);
  assert.ok('error' in pairs[0]! && pairs[0].error.detail.kind === 'locked');
  const scanned = await kv.scan(
    ctx,
    { start: b('a'), end: b('z'), limit: 10, reverse: false, keyOnly: false },
    20n,
  );
  assert.deepEqual(
    scanned.map((p) => ('error' in p ? `${p.key}:locked` : `${p.key}`)),
    ['k:locked'],
  );
  // A read below min_commit_ts (11) passes the memory lock: the commit will be above it.
  assert.equal(await kv.get(ctx, b('k'), 10n), undefined);
  const r = await p;
  assert.equal(r.minCommitTs, 11n);
  assert.equal(kv.cm.memoryLockCount, 0);
  // After a read at 30, a new async prewrite commits above it.
  await assert.rejects(kv.get(ctx, b('k'), 30n), KeyError);
  const r2 = await kv.prewrite(ctx, { ...putArgs('j', 'v', 12n), useAsyncCommit: true });
  assert.equal(r2.minCommitTs, 31n);
});

test('GC removes versions no read at the safe point sees, on every replica; older reads fail', async () => {
  const { net, kv, ctx } = await cluster();
  let ts = 10n;
  for (const v of ['v1', 'v2', 'v3']) {
    assert.deepEqual((await kv.prewrite(ctx, putArgs('k', v.repeat(200), ts))).errors, []);
    await kv.commit(ctx, [b('k')], ts, ts + 1n);
    ts += 10n;
  }
  // A rolled-back attempt and a deleted key.
  await kv.prewrite(ctx, putArgs('k', 'x', 40n));
  await kv.batchRollback(ctx, [b('k')], 40n);
  await kv.prewrite(ctx, putArgs('d', 'x', 41n));
  await kv.commit(ctx, [b('d')], 41n, 42n);
  await kv.prewrite(ctx, { ...putArgs('d', 'x', 43n), mutations: [{ op: 'delete', key: b('d') }] });
  await kv.commit(ctx, [b('d')], 43n, 44n);
  const deleted = await kv.gc(ctx, 45n);
  // k: v1, v2 (+ their long values' rows counted with them) and the rollback; d: both.
  assert.equal(deleted, 5);
  assert.equal((await kv.get(ctx, b('k'), 45n))?.toString(), 'v3'.repeat(200));
  assert.equal(await kv.get(ctx, b('d'), 45n), undefined);
  await assert.rejects(kv.get(ctx, b('k'), 15n), (e: unknown) => {
    assert.ok(e instanceof KeyError && e.detail.kind === 'tsBelowSafePoint');
    return true;
  });
  for (const s of net.stores.values()) {
    const engine = s.store.peers.get(1)!.engine;
    await waitFor(() => engine.count('write') === 1 && engine.count('default') === 1);
  }
});

async function waitFor(cond: () => boolean, stepMs = 10, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => (stepMs <= 1 ? setImmediate(r) : setTimeout(r, stepMs)));
  }
}

test('a leader syncs max_ts from the TSO once per term before its first async prewrite', async () => {
  const { leader, ctx } = await cluster();
  let fetches = 0;
  const kv = new TxnKv(leader.store, { fetchTs: async () => (fetches++, 100n) });
  // Reads an earlier leader served at up to 99 are covered: min_commit_ts is above 100.
  const r = await kv.prewrite(ctx, { ...putArgs('a', 'v', 10n), useAsyncCommit: true });
  assert.equal(r.minCommitTs, 101n);
  const r2 = await kv.prewrite(ctx, { ...putArgs('b', 'v', 11n), tryOnePc: true });
  assert.equal(r2.onePcCommitTs, 101n);
  assert.equal(fetches, 1);
  // Plain 2PC needs no sync.
  const failing = new TxnKv(leader.store, {
    fetchTs: async () => {
      throw new Error('PD down');
    },
  });
  assert.deepEqual((await failing.prewrite(ctx, putArgs('c', 'v', 12n))).errors, []);
  await assert.rejects(
    failing.prewrite(ctx, { ...putArgs('d', 'v', 12n), useAsyncCommit: true }),
    (e: unknown) => e instanceof RegionError && e.detail.kind === 'ServerIsBusy',
  );
});

test('a pessimistic lock request waits for the holder to let go, up to its wait timeout', async () => {
  const { kv, ctx, leader } = await cluster();
  const lockArgs = (startTs: bigint) => ({
    mutations: [{ op: 'put' as const, key: b('k') }],
    primary: b('k'),
    startTs,
    lockTtl: 3000,
    forUpdateTs: startTs,
  });
  await kv.pessimisticLock(ctx, lockArgs(10n));
  // No wait: Locked at once.
  await assert.rejects(kv.pessimisticLock(ctx, lockArgs(11n)), KeyError);
  // A short wait that the holder outlasts: Locked after about the timeout.
  const t0 = Date.now();
  await assert.rejects(kv.pessimisticLock(ctx, lockArgs(11n), 300), KeyError);
  assert.ok(Date.now() - t0 >= 290);
  // A waiter gets the lock as soon as the holder rolls back.
  const waiting = kv.pessimisticLock(ctx, lockArgs(12n), 10_000);
  await waitFor(() => kv.waiters.count > 0);
  const released = Date.now();
  await kv.pessimisticRollback(ctx, [b('k')], 10n, 10n);
  await waiting;
  assert.ok(Date.now() - released < 1000, 'woken, not timed out');
  assert.equal(
    new MvccReader(leader.store.peers.get(ctx.regionId)!.engine).loadLock(b('k'))?.startTs,
    12n,
  );
});

test('two pessimistic transactions waiting for each other: the second wait is a Deadlock', async () => {
  const { kv, ctx } = await cluster();
  const lock = (key: string, startTs: bigint, waitMs = 0) =>
    kv.pessimisticLock(
      ctx,
      {
        mutations: [{ op: 'put' as const, key: b(key) }],
        primary: b(key),
        startTs,
        lockTtl: 3000,
        forUpdateTs: startTs,
      },
      waitMs,
    );
  await lock('k1', 10n);
  await lock('k2', 20n);
  const aWaits = lock('k2', 10n, 10_000);
  await waitFor(() => kv.waiters.count > 0);
  const t0 = Date.now();
  await assert.rejects(lock('k1', 20n, 10_000), (e: unknown) => {
    assert.ok(e instanceof KeyError && e.detail.kind === 'deadlock');
    assert.equal(e.detail.lockTs, 10n);
    assert.deepEqual(
      e.detail.waitChain.map((w) => [w.txn, w.waitForTxn]),
      [
        [20n, 10n],
        [10n, 20n],
      ],
    );
    return true;
  });
  assert.ok(Date.now() - t0 < 1000, 'refused at once, not after the timeout');
  // The victim gives up its locks; the other transaction gets the key.
  await kv.pessimisticRollback(ctx, [b('k2')], 20n, 20n);
  await aWaits;
  assert.equal(kv.deadlocks.local.size, 0);
});

test('committed transactions are counted once, where the primary commits or 1PC commits', async () => {
  const { kv, ctx } = await cluster();
  // Two keys, primary p: the secondary's commit does not count, the primary's does, and a
  // retried commit of the primary does not count again.
  const two = {
    mutations: [
      { op: 'put' as const, key: b('p'), value: b('1') },
      { op: 'put' as const, key: b('s'), value: b('2') },
    ],
    primary: b('p'),
    startTs: 30n,
    lockTtl: 3000,
  };
  assert.deepEqual((await kv.prewrite(ctx, two)).errors, []);
  await kv.commit(ctx, [b('s')], 30n, 31n);
  assert.deepEqual(kv.committedTxns, { percolator: 0, onePc: 0 });
  await kv.commit(ctx, [b('p')], 30n, 31n);
  await kv.commit(ctx, [b('p')], 30n, 31n);
  assert.deepEqual(kv.committedTxns, { percolator: 1, onePc: 0 });
  // A 1PC prewrite commits at once; a failed one (the key is locked) does not count.
  assert.deepEqual(
    (await kv.prewrite(ctx, { ...putArgs('x', 'v', 40n), tryOnePc: true })).errors,
    [],
  );
  assert.deepEqual((await kv.prewrite(ctx, putArgs('y', 'v', 41n))).errors, []);
  const blocked = await kv.prewrite(ctx, { ...putArgs('y', 'w', 42n), tryOnePc: true });
  assert.equal(blocked.errors.length, 1);
  assert.deepEqual(kv.committedTxns, { percolator: 1, onePc: 1 });
});

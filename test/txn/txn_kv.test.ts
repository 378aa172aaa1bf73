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

test("one ResolveLock commits several transactions' keys, each at its own commit_ts, and counts their primaries", async () => {
  // The client's batched background commits: decided transactions' keys of one Region in
  // one request, one proposal.
  const { kv, ctx } = await cluster();
  const txn = (p: string, s: string, startTs: bigint) => ({
    mutations: [
      { op: 'put' as const, key: b(p), value: b(`${p}@${startTs}`) },
      { op: 'put' as const, key: b(s), value: b(`${s}@${startTs}`) },
    ],
    primary: b(p),
    startTs,
    lockTtl: 3000,
  });
  assert.deepEqual((await kv.prewrite(ctx, txn('p1', 's1', 50n))).errors, []);
  assert.deepEqual((await kv.prewrite(ctx, txn('p2', 's2', 51n))).errors, []);
  const before = kv.committedTxns.percolator;
  const status = new Map([
    [50n, 60n],
    [51n, 61n],
  ]);
  const n = await kv.resolveLock(ctx, status, [b('p1'), b('s1'), b('p2'), b('s2')]);
  assert.equal(n, 4);
  assert.equal(kv.committedTxns.percolator - before, 2, 'both primaries committed here');
  for (const [k, startTs, commitTs] of [
    ['p1', 50n, 60n],
    ['s2', 51n, 61n],
  ] as const) {
    assert.equal(await kv.get(ctx, b(k), commitTs - 1n), undefined);
    assert.equal((await kv.get(ctx, b(k), commitTs))?.toString(), `${k}@${startTs}`);
  }
  // Again (a batch whose answer was lost, sent once more): nothing left to do.
  assert.equal(await kv.resolveLock(ctx, status, [b('p1'), b('s1'), b('p2'), b('s2')]), 0);
  assert.equal(kv.committedTxns.percolator - before, 2);
});

test('an action that writes needs no lease or ReadIndex round; one answered from the state alone does', async () => {
  // Every prewrite and commit took a linearizable read point first; under load, when a
  // commit outlasts the lease, each was a ReadIndex round plus the write. A write's answer
  // waits for its own proposal, which a deposed leader can never commit.
  const { leader, kv, ctx } = await cluster();
  const peer = leader.store.peers.get(1)!;
  const reads = { n: 0 };
  const read = peer.read.bind(peer);
  peer.read = (run, fail) => {
    reads.n++;
    read(run, fail);
  };
  assert.deepEqual((await kv.prewrite(ctx, putArgs('k', 'v', 10n))).errors, []);
  await kv.commit(ctx, [b('k')], 10n, 20n);
  assert.equal(reads.n, 0, 'prewrite and commit wrote without a read point');
  // A conflict, a retried commit (nothing to write) and an error are read answers.
  const conflict = await kv.prewrite(ctx, putArgs('k', 'w', 15n));
  assert.equal(conflict.errors[0]?.detail.kind, 'conflict');
  assert.equal(reads.n, 1);
  await kv.commit(ctx, [b('k')], 10n, 20n);
  assert.equal(reads.n, 2);
  await assert.rejects(kv.commit(ctx, [b('k')], 30n, 40n), KeyError);
  assert.equal(reads.n, 3);
  // With the option off every action takes the read point first (the old path).
  const strict = new TxnKv(leader.store, { writesWithoutLease: false });
  assert.deepEqual((await strict.prewrite(ctx, putArgs('m', 'v', 50n))).errors, []);
  assert.equal(reads.n, 4);
});

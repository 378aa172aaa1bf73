// Percolator actions over a real Region engine, in the manner of TiKV's txn tests
// (src/storage/txn/actions/*.rs tests): each case drives prewrite / commit / rollback /
// check_txn_status / ... and checks the MVCC state and reads afterwards.
import assert from 'node:assert/strict';
import test from 'node:test';
import { composeTs } from '../../src/pd/timestamp.js';
import { checkSecondaryLocks } from '../../src/txn/actions/check_secondary_locks.js';
import { checkTxnStatus } from '../../src/txn/actions/check_txn_status.js';
import { commit } from '../../src/txn/actions/commit.js';
import {
  type PessimisticLockArgs,
  acquirePessimisticLocks,
  pessimisticRollback,
} from '../../src/txn/actions/pessimistic_lock.js';
import { batchRollback } from '../../src/txn/actions/rollback.js';
import { resolveLocks } from '../../src/txn/actions/resolve_lock.js';
import { txnHeartBeat } from '../../src/txn/actions/txn_heart_beat.js';
import { LockKind } from '../../src/txn/mvcc/lock_record.js';
import { WriteKind } from '../../src/txn/mvcc/write_record.js';
import { KeyError } from '../../src/txn/errors.js';
import { batchGet, pointGet, scan } from '../../src/txn/snapshot_read.js';
import { TxnEngine, b } from './harness.js';

/** A pessimistic lock of one key at for_update_ts = start_ts (as the SDK sends it). */
function lockArgs(
  key: string,
  primary: string,
  startTs: bigint,
  more: Partial<PessimisticLockArgs> = {},
): PessimisticLockArgs {
  return {
    mutations: [{ op: 'put', key: b(key) }],
    primary: b(primary),
    startTs,
    lockTtl: 100,
    forUpdateTs: startTs,
    ...more,
  };
}

test('a committed put is read at and after its commit_ts, not before', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v1', 'k', 5n);
  e.mustCommit('k', 5n, 10n);
  e.mustGet('k', 9n, undefined);
  e.mustGet('k', 10n, 'v1');
  e.mustGet('k', 100n, 'v1');
  e.mustPrewriteDelete('k', 'k', 20n);
  e.mustCommit('k', 20n, 25n);
  e.mustGet('k', 24n, 'v1');
  e.mustGet('k', 25n, undefined);
});

test('reads walk past many versions and rollbacks: each ts sees its own version', (t) => {
  // More versions than any one step of the walk fetches (reader.ts: the first record
  // alone, then pages of 8, 64, 128, ...), interleaved with rollback records that every
  // read skips, between neighbour keys whose versions the walk must not see.
  const e = new TxnEngine(t);
  for (const n of ['j', 'k\0', 'ka']) {
    e.mustPrewritePut(n, 'n', n, 1n);
    e.mustCommit(n, 1n, 2n);
  }
  for (let i = 1n; i <= 300n; i++) {
    e.mustPrewritePut('k', `v${i}`, 'k', i * 10n);
    e.mustCommit('k', i * 10n, i * 10n + 1n);
    e.mustRollback('k', i * 10n + 5n);
  }
  for (const i of [1n, 2n, 3n, 17n, 18n, 150n, 299n, 300n]) {
    e.mustGet('k', i * 10n + 1n, `v${i}`);
    e.mustGet('k', i * 10n + 6n, `v${i}`); // above the rollback at i*10+5
  }
  e.mustGet('k', 10n, undefined);
  const first = e.reader.getTxnCommitRecord(b('k'), 10n);
  assert.equal(first.kind === 'committed' && first.commitTs, 11n);
  assert.equal(e.reader.getTxnCommitRecord(b('k'), 15n).kind, 'rolledBack');
  assert.equal(e.reader.newestWriteAfter(b('k'), 3001n), undefined);
  assert.equal(e.reader.newestWriteAfter(b('k'), 2991n)?.commitTs, 3001n);
  const all = [...e.reader.versions(b('k'))].map((v) => v.commitTs);
  assert.equal(all.length, 600);
  assert.deepEqual(all.slice(0, 3), [3005n, 3001n, 2995n]);
  assert.ok(
    all.every((ts, i) => i === 0 || ts < all[i - 1]!),
    'newest first, each once',
  );
  assert.deepEqual(
    [...e.reader.versions(b('k'), 2995n)].slice(0, 2).map((v) => v.commitTs),
    [2995n, 2991n],
  );
  assert.equal([...e.reader.versions(b('k'), 10n)].length, 0);
  assert.equal([...e.reader.versions(b('k\0'))].length, 1);
});

test('a long value goes to the default table and is read back; rollback removes it', (t) => {
  const e = new TxnEngine(t);
  const long = 'x'.repeat(1000);
  e.mustPrewritePut('k', long, 'k', 5n);
  assert.equal(e.reader.loadLock(b('k'))!.shortValue, undefined);
  assert.equal(e.engine.count('default'), 1);
  e.mustCommit('k', 5n, 6n);
  e.mustGet('k', 6n, long);
  e.mustPrewritePut('k', long + 'y', 'k', 7n);
  e.mustRollback('k', 7n);
  assert.equal(e.engine.count('default'), 1);
  e.mustGet('k', 100n, long);
});

test('prewrite meets another lock (Locked) and a newer commit (WriteConflict)', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  assert.equal(e.prewriteErr('k', 'w', 'k', 6n), 'locked');
  // Nothing of the failed prewrite was written.
  e.mustLocked('k', 5n);
  e.mustCommit('k', 5n, 10n);
  assert.equal(e.prewriteErr('k', 'w', 'k', 8n), 'conflict');
  const r = e.prewrite({
    mutations: [{ op: 'put', key: b('k'), value: b('w') }],
    primary: b('k'),
    startTs: 8n,
    lockTtl: 1,
  });
  const d = r.errors[0]!.detail;
  assert.ok(d.kind === 'conflict');
  assert.equal(d.conflictStartTs, 5n);
  assert.equal(d.conflictCommitTs, 10n);
  // A transaction that started after the commit prewrites fine.
  e.mustPrewritePut('k', 'w', 'k', 11n);
});

test('a prewrite with one locked key writes none of its keys', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('b', 'x', 'b', 5n);
  const r = e.prewrite({
    mutations: [
      { op: 'put', key: b('a'), value: b('1') },
      { op: 'put', key: b('b'), value: b('2') },
    ],
    primary: b('a'),
    startTs: 6n,
    lockTtl: 100,
  });
  assert.equal(r.errors.length, 1);
  e.mustUnlocked('a');
});

test('prewrite and commit are idempotent', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustCommit('k', 5n, 10n);
  e.mustCommit('k', 5n, 10n);
  // A prewrite retried after the commit finds its own commit record: no new lock.
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustUnlocked('k');
  e.mustGet('k', 10n, 'v');
});

test('commit after rollback fails with TxnNotFound; prewrite after rollback aborts', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustRollback('k', 5n);
  e.mustUnlocked('k');
  e.runErr((io) => commit(io, [b('k')], 5n, 10n), 'txnNotFound');
  assert.equal(e.prewriteErr('k', 'v', 'k', 5n), 'abort');
  e.mustGet('k', 100n, undefined);
  // A rollback of a key never prewritten still leaves a record: the late prewrite fails.
  e.mustRollback('late', 7n);
  assert.equal(e.prewriteErr('late', 'v', 'late', 7n), 'abort');
  // Rolling back twice is fine.
  e.mustRollback('k', 5n);
});

test('rollback after commit is refused (abort) and changes nothing', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustCommit('k', 5n, 10n);
  e.runErr((io) => batchRollback(io, [b('k')], 5n), 'abort');
  e.mustGet('k', 10n, 'v');
});

test('a rollback at a ts where another transaction committed flags that record', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustCommit('k', 5n, 10n);
  // Transaction 10 (start_ts = the commit_ts above) is rolled back on k.
  e.mustRollback('k', 10n);
  const w = e.reader.writeAt(b('k'), 10n)!;
  assert.equal(w.kind, WriteKind.Put);
  assert.equal(w.overlappedRollback, true);
  e.mustGet('k', 10n, 'v');
  assert.deepEqual(e.reader.getTxnCommitRecord(b('k'), 10n), { kind: 'rolledBack' });
  assert.equal(e.prewriteErr('k', 'w', 'k', 10n), 'abort');
});

test('reads: a lock at or below the read ts blocks; newer, pessimistic and resolved ones do not', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v0', 'k', 1n);
  e.mustCommit('k', 1n, 2n);
  e.mustPrewritePut('k', 'v1', 'k', 5n);
  e.mustGet('k', 4n, 'v0');
  // At its own start_ts the lock cannot commit (commit_ts > start_ts): no block.
  e.mustGet('k', 5n, 'v0');
  assert.throws(
    () => e.get('k', 6n),
    (err: unknown) => {
      assert.ok(err instanceof KeyError && err.detail.kind === 'locked');
      assert.equal(err.detail.lock.startTs, 5n);
      assert.deepEqual(err.detail.lock.primary, b('k'));
      return true;
    },
  );
  assert.equal(pointGet(e.reader, b('k'), 6n, { resolvedLocks: [5n] })?.toString(), 'v0');
  // Pessimistic locks guard writers only.
  e.run((io) => acquirePessimisticLocks(io, lockArgs('p', 'p', 5n)));
  e.mustGet('p', 10n, undefined);
  // Batch get: existing keys and locked keys, in order.
  const pairs = batchGet(e.reader, [b('p'), b('k'), b('none')], 6n);
  assert.equal(pairs.length, 1);
  assert.ok('error' in pairs[0]!);
});

test('scan: versions at ts in order, deleted and rolled back skipped, locks reported in place', (t) => {
  const e = new TxnEngine(t);
  for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) {
    e.mustPrewritePut(k, `${k}1`, k, 10n + BigInt(i) * 2n);
    e.mustCommit(k, 10n + BigInt(i) * 2n, 11n + BigInt(i) * 2n);
  }
  e.mustPrewriteDelete('b', 'b', 30n);
  e.mustCommit('b', 30n, 31n);
  e.mustPrewritePut('c', 'c2', 'c', 32n);
  e.mustRollback('c', 32n);
  e.mustPrewritePut('d', 'd2', 'd', 33n);
  const all = scan(
    e.reader,
    { start: b('a'), end: Buffer.alloc(0), limit: 10, reverse: false, keyOnly: false },
    40n,
  );
  assert.deepEqual(
    all.map((p) => ('error' in p ? `${p.key}:locked` : `${p.key}=${p.value}`)),
    ['a=a1', 'c=c1', 'd:locked', 'e=e1'],
  );
  const rev = scan(
    e.reader,
    { start: b('a'), end: b('e'), limit: 2, reverse: true, keyOnly: false },
    40n,
  );
  assert.deepEqual(
    rev.map((p) => ('error' in p ? `${p.key}:locked` : `${p.key}=${p.value}`)),
    ['d:locked', 'c=c1'],
  );
  const early = scan(
    e.reader,
    { start: b('a'), end: Buffer.alloc(0), limit: 2, reverse: false, keyOnly: false },
    13n,
  );
  assert.deepEqual(
    early.map((p) => ('error' in p ? `${p.key}:locked` : `${p.key}=${p.value}`)),
    ['a=a1', 'b=b1'],
  );
});

test('check_txn_status: alive lock reports TTL and pushes min_commit_ts; expired lock is rolled back', (t) => {
  const e = new TxnEngine(t);
  const start = composeTs(1000, 0);
  e.mustPrewritePut('pk', 'v', 'pk', start, 100);
  const args = {
    primaryKey: b('pk'),
    lockTs: start,
    callerStartTs: composeTs(1050, 0),
    currentTs: composeTs(1050, 0),
    rollbackIfNotExist: false,
  };
  const alive = e.run((io) => checkTxnStatus(io, args));
  assert.equal(alive.action, 'MinCommitTsPushed');
  assert.equal(alive.lockTtl, 100);
  assert.equal(e.reader.loadLock(b('pk'))!.minCommitTs, composeTs(1050, 0) + 1n);
  // A commit below the pushed min_commit_ts must get a new ts.
  e.runErr((io) => commit(io, [b('pk')], start, composeTs(1050, 0)), 'commitTsExpired');
  const expired = e.run((io) => checkTxnStatus(io, { ...args, currentTs: composeTs(1100, 0) }));
  assert.equal(expired.action, 'TtlExpireRollback');
  e.mustUnlocked('pk');
  // Now it is rolled back for good.
  const again = e.run((io) => checkTxnStatus(io, { ...args, currentTs: composeTs(1200, 0) }));
  assert.deepEqual([again.action, again.commitTs, again.lockTtl], ['NoAction', 0n, 0]);
  e.runErr((io) => commit(io, [b('pk')], start, composeTs(1300, 0)), 'txnNotFound');
});

test('check_txn_status: committed, missing without rollback, missing with protected rollback', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('pk', 'v', 'pk', 5n);
  e.mustCommit('pk', 5n, 10n);
  const base = {
    primaryKey: b('pk'),
    callerStartTs: 0n,
    currentTs: 20n,
    rollbackIfNotExist: false,
  };
  const committed = e.run((io) => checkTxnStatus(io, { ...base, lockTs: 5n }));
  assert.equal(committed.commitTs, 10n);
  e.runErr((io) => checkTxnStatus(io, { ...base, lockTs: 15n }), 'txnNotFound');
  const rb = e.run((io) => checkTxnStatus(io, { ...base, lockTs: 15n, rollbackIfNotExist: true }));
  assert.equal(rb.action, 'LockNotExistRollback');
  // The primary's prewrite arriving late cannot succeed now.
  assert.equal(e.prewriteErr('pk', 'late', 'pk', 15n), 'abort');
  assert.deepEqual(e.reader.getTxnCommitRecord(b('pk'), 15n), { kind: 'rolledBack' });
});

test('resolve_lock commits or rolls back the locks of the given transactions only', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('a', 'a5', 'a', 5n);
  e.mustPrewritePut('b', 'b5', 'a', 5n);
  e.mustPrewritePut('c', 'c6', 'c', 6n);
  e.mustPrewritePut('d', 'd7', 'd', 7n);
  const status = new Map([
    [5n, 9n],
    [6n, 0n],
  ]);
  const n = e.run((io) =>
    resolveLocks(io, [b('a'), b('b'), b('c'), b('d')], (ts) => status.get(ts)),
  );
  assert.equal(n, 3);
  e.mustGet('a', 9n, 'a5');
  e.mustGet('b', 9n, 'b5');
  e.mustUnlocked('c');
  e.mustGet('c', 100n, undefined);
  e.mustLocked('d', 7n);
});

test('txn_heart_beat extends the primary TTL, never shortens it', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('pk', 'v', 'pk', 5n, 100);
  assert.equal(
    e.run((io) => txnHeartBeat(io, b('pk'), 5n, 500)),
    500,
  );
  assert.equal(
    e.run((io) => txnHeartBeat(io, b('pk'), 5n, 200)),
    500,
  );
  assert.equal(e.reader.loadLock(b('pk'))!.ttl, 500);
  e.runErr((io) => txnHeartBeat(io, b('pk'), 6n, 500), 'txnNotFound');
});

test('async commit: min_commit_ts is above max_ts; the primary lists the secondaries', (t) => {
  const e = new TxnEngine(t);
  e.maxTs = 50n;
  const r = e.prewrite({
    mutations: [
      { op: 'put', key: b('a'), value: b('1') },
      { op: 'put', key: b('b'), value: b('2') },
    ],
    primary: b('a'),
    startTs: 10n,
    lockTtl: 100,
    useAsyncCommit: true,
    secondaries: [b('b')],
    minCommitTs: 11n,
  });
  assert.deepEqual(r.errors, []);
  assert.equal(r.minCommitTs, 51n);
  const pl = e.reader.loadLock(b('a'))!;
  assert.equal(pl.useAsyncCommit, true);
  assert.deepEqual(pl.secondaries, [b('b')]);
  assert.equal(e.reader.loadLock(b('b'))!.minCommitTs, 51n);
  // A read at 50 (which max_ts covered) passes the locks: they commit above it.
  e.mustGet('a', 50n, undefined);
  // A retried prewrite answers the same min_commit_ts even though max_ts moved on.
  e.maxTs = 80n;
  const again = e.prewrite({
    mutations: [{ op: 'put', key: b('b'), value: b('2') }],
    primary: b('a'),
    startTs: 10n,
    lockTtl: 100,
    useAsyncCommit: true,
  });
  assert.equal(again.minCommitTs, 51n);
  // check_secondary_locks reports the locks; the transaction is committed at 51.
  const s = e.run((io) => checkSecondaryLocks(io, [b('b')], 10n));
  assert.equal(s.kind, 'locked');
  // An expired async-commit primary is not rolled back by check_txn_status...
  const st = e.run((io) =>
    checkTxnStatus(io, {
      primaryKey: b('a'),
      lockTs: 10n,
      callerStartTs: 0n,
      currentTs: composeTs(1_000_000, 0),
      rollbackIfNotExist: false,
    }),
  );
  assert.equal(st.action, 'NoAction');
  assert.deepEqual(st.lock!.secondaries, [b('b')]);
  e.mustLocked('a', 10n);
});

test('async commit falls back to 2PC when min_commit_ts would pass max_commit_ts', (t) => {
  const e = new TxnEngine(t);
  e.maxTs = 100n;
  const r = e.prewrite({
    mutations: [{ op: 'put', key: b('a'), value: b('1') }],
    primary: b('a'),
    startTs: 10n,
    lockTtl: 100,
    useAsyncCommit: true,
    maxCommitTs: 50n,
  });
  assert.equal(r.minCommitTs, 0n);
  assert.equal(e.reader.loadLock(b('a'))!.useAsyncCommit, false);
});

test('check_secondary_locks: a missing secondary gets a rollback and decides the txn', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('a', '1', 'a', 10n);
  const s = e.run((io) => checkSecondaryLocks(io, [b('a'), b('b')], 10n));
  assert.equal(s.kind, 'rolledBack');
  assert.equal(e.prewriteErr('b', '2', 'a', 10n), 'abort');
  e.mustCommit('a', 10n, 12n);
  const c = e.run((io) => checkSecondaryLocks(io, [b('a')], 10n));
  assert.deepEqual(c, { kind: 'committed', commitTs: 12n });
});

test('1PC commits in the prewrite at max(max_ts + 1, start_ts + 1) and leaves no lock', (t) => {
  const e = new TxnEngine(t);
  e.maxTs = 30n;
  const args = {
    mutations: [
      { op: 'put' as const, key: b('a'), value: b('1') },
      { op: 'put' as const, key: b('b'), value: b('x'.repeat(400)) },
    ],
    primary: b('a'),
    startTs: 10n,
    lockTtl: 100,
    tryOnePc: true,
  };
  const r = e.prewrite(args);
  assert.equal(r.onePcCommitTs, 31n);
  e.mustUnlocked('a');
  e.mustUnlocked('b');
  e.mustGet('a', 30n, undefined);
  e.mustGet('a', 31n, '1');
  e.mustGet('b', 31n, 'x'.repeat(400));
  // A retry answers the same commit_ts and writes nothing.
  e.maxTs = 90n;
  assert.equal(e.prewrite(args).onePcCommitTs, 31n);
  // Fallback: max_commit_ts too low leaves ordinary locks.
  const f = e.prewrite({ ...args, startTs: 95n, maxCommitTs: 95n });
  assert.equal(f.onePcCommitTs, 0n);
  e.mustLocked('a', 95n);
});

test('a retried 1PC prewrite finds its commit under a newer commit or another lock: no conflict', (t) => {
  // The first attempt committed (1PC) but its answer was lost; before the retry, another
  // transaction read the value, committed over it, and a third locked the key. The retry
  // must answer "committed at 31", not a conflict: the client would report a definite
  // abort for a transaction that others already saw (G1a). TiKV:
  // check_committed_record_on_err.
  const e = new TxnEngine(t);
  e.maxTs = 30n;
  const args = {
    mutations: [{ op: 'put' as const, key: b('a'), value: b('1') }],
    primary: b('a'),
    startTs: 10n,
    lockTtl: 100,
    tryOnePc: true,
  };
  assert.equal(e.prewrite(args).onePcCommitTs, 31n);
  e.mustPrewritePut('a', '2', 'a', 40n);
  e.mustCommit('a', 40n, 45n);
  assert.deepEqual(e.prewrite(args).errors, []);
  assert.equal(e.prewrite(args).onePcCommitTs, 31n);
  e.mustPrewritePut('a', '3', 'a', 50n);
  const r = e.prewrite(args);
  assert.deepEqual(r.errors, []);
  assert.equal(r.onePcCommitTs, 31n);
  e.mustLocked('a', 50n);
  e.mustGet('a', 46n, '2');
});

test('a retried async-commit prewrite of a key a reader committed answers its commit_ts', (t) => {
  const e = new TxnEngine(t);
  e.maxTs = 30n;
  const args = {
    mutations: [{ op: 'put' as const, key: b('b'), value: b('1') }],
    primary: b('a'),
    startTs: 10n,
    lockTtl: 100,
    useAsyncCommit: true,
  };
  assert.equal(e.prewrite(args).minCommitTs, 31n);
  // A reader resolved the transaction as committed at 31, then another wrote over it.
  e.mustCommit('b', 10n, 31n);
  e.mustPrewritePut('b', '2', 'b', 40n);
  e.mustCommit('b', 40n, 45n);
  const r = e.prewrite(args);
  assert.deepEqual(r.errors, []);
  assert.equal(r.minCommitTs, 31n);
  e.mustUnlocked('b');
  // Rolled back instead (a reader found the lock missing): the retry is refused.
  e.run((io) => checkSecondaryLocks(io, [b('c')], 60n));
  assert.equal(e.prewriteErr('c', '1', 'a', 60n), 'abort');
});

test('insert and check_not_exists fail on an existing key', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v', 'k', 5n);
  e.mustCommit('k', 5n, 6n);
  for (const op of ['insert', 'checkNotExists'] as const) {
    const r = e.prewrite({
      mutations: [{ op, key: b('k'), value: b('w') }],
      primary: b('k'),
      startTs: 10n,
      lockTtl: 1,
    });
    assert.equal(r.errors[0]?.detail.kind, 'alreadyExists');
  }
  const ok = e.prewrite({
    mutations: [{ op: 'insert', key: b('n'), value: b('w') }],
    primary: b('n'),
    startTs: 10n,
    lockTtl: 1,
  });
  assert.deepEqual(ok.errors, []);
});

test('pessimistic lock, then prewrite turns it into a normal lock, then commit', (t) => {
  const e = new TxnEngine(t);
  e.mustPrewritePut('k', 'v0', 'k', 1n);
  e.mustCommit('k', 1n, 2n);
  const values = e.run((io) =>
    acquirePessimisticLocks(io, lockArgs('k', 'k', 10n, { returnValues: true })),
  );
  assert.equal(values[0]?.toString(), 'v0');
  assert.equal(e.reader.loadLock(b('k'))!.kind, LockKind.Pessimistic);
  // Another pessimistic transaction meets the lock at once (no waiting queue).
  e.runErr((io) => acquirePessimisticLocks(io, lockArgs('k', 'k', 11n)), 'locked');
  // A write committed after for_update_ts conflicts.
  e.mustPrewritePut('j', 'x', 'j', 3n);
  e.mustCommit('j', 3n, 12n);
  e.runErr((io) => acquirePessimisticLocks(io, lockArgs('j', 'k', 10n)), 'conflict');
  // A later transaction's rollback record is no write: it does not conflict.
  e.mustRollback('r', 20n);
  e.run((io) => acquirePessimisticLocks(io, lockArgs('r', 'k', 10n)));
  assert.equal(e.reader.loadLock(b('r'))!.kind, LockKind.Pessimistic);
  const r = e.prewrite({
    mutations: [{ op: 'put', key: b('k'), value: b('v1') }],
    primary: b('k'),
    startTs: 10n,
    lockTtl: 100,
    forUpdateTs: 10n,
    isPessimisticLock: [true],
  });
  assert.deepEqual(r.errors, []);
  assert.equal(e.reader.loadLock(b('k'))!.kind, LockKind.Put);
  e.mustCommit('k', 10n, 15n);
  e.mustGet('k', 15n, 'v1');
});

test('prewrite of a pessimistic key whose lock is gone fails; pessimistic rollback drops locks', (t) => {
  const e = new TxnEngine(t);
  const lockArgs = {
    mutations: [{ op: 'put' as const, key: b('k') }],
    primary: b('k'),
    startTs: 10n,
    lockTtl: 100,
    forUpdateTs: 10n,
  };
  e.run((io) => acquirePessimisticLocks(io, lockArgs));
  e.run((io) => pessimisticRollback(io, [b('k')], 10n, 10n));
  e.mustUnlocked('k');
  const r = e.prewrite({
    mutations: [{ op: 'put', key: b('k'), value: b('v') }],
    primary: b('k'),
    startTs: 10n,
    lockTtl: 100,
    forUpdateTs: 10n,
    isPessimisticLock: [true],
  });
  assert.equal(r.errors[0]?.detail.kind, 'pessimisticLockNotFound');
  // check_txn_status on an expired pessimistic primary while resolving pessimistic locks.
  e.run((io) => acquirePessimisticLocks(io, lockArgs));
  const s = e.run((io) =>
    checkTxnStatus(io, {
      primaryKey: b('k'),
      lockTs: 10n,
      callerStartTs: 0n,
      currentTs: composeTs(10_000, 0),
      rollbackIfNotExist: false,
      resolvingPessimisticLock: true,
    }),
  );
  assert.equal(s.action, 'TtlExpirePessimisticRollback');
  e.mustUnlocked('k');
});

test('a KeyError carries its detail and message but no stack frames (an answer, not a bug)', () => {
  const limit = Error.stackTraceLimit;
  const e = new KeyError({ kind: 'alreadyExists', key: b('k') });
  assert.equal(e.message, 'key "k" already exists');
  assert.equal(e.detail.kind, 'alreadyExists');
  assert.equal(e.stack?.split('\n').length, 1, e.stack);
  assert.equal(Error.stackTraceLimit, limit, 'the limit is restored');
  assert.ok((new Error('x').stack?.split('\n').length ?? 0) > 1);
});

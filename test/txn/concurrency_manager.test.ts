import assert from 'node:assert/strict';
import test from 'node:test';
import { ConcurrencyManager } from '../../src/txn/concurrency_manager.js';
import { KeyError } from '../../src/txn/errors.js';
import { LockKind, LockRecord } from '../../src/txn/mvcc/lock_record.js';

const lock = (startTs: bigint, minCommitTs: bigint): LockRecord => ({
  kind: LockKind.Put,
  primary: Buffer.from('p'),
  startTs,
  ttl: 100,
  forUpdateTs: 0n,
  txnSize: 1,
  minCommitTs,
  useAsyncCommit: true,
  secondaries: [],
});

test('max_ts only rises; a "latest" read (max u64) does not move it', () => {
  const cm = new ConcurrencyManager();
  cm.updateMaxTs(10n);
  cm.updateMaxTs(7n);
  assert.equal(cm.maxTs, 10n);
  cm.updateMaxTs((1n << 64n) - 1n);
  assert.equal(cm.maxTs, 10n);
});

test('a memory lock blocks reads at or above its min_commit_ts until released', () => {
  const cm = new ConcurrencyManager();
  const release = cm.addMemoryLocks([{ key: Buffer.from('k'), lock: lock(5n, 20n) }]);
  cm.checkKey(Buffer.from('k'), 19n); // commits above 19: no block
  assert.throws(() => cm.checkKey(Buffer.from('k'), 20n), KeyError);
  assert.deepEqual([...cm.blockingInRange(Buffer.from('a'), Buffer.from('z'), 25n).keys()], ['k']);
  assert.equal(cm.blockingInRange(Buffer.from('l'), Buffer.alloc(0), 25n).size, 0);
  assert.equal(cm.blockingInRange(Buffer.from('a'), Buffer.from('z'), 19n).size, 0);
  assert.throws(() => cm.addMemoryLocks([{ key: Buffer.from('k'), lock: lock(6n, 21n) }]));
  release();
  cm.checkKey(Buffer.from('k'), 25n);
  assert.equal(cm.memoryLockCount, 0);
});

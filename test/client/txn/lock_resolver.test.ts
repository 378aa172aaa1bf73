// The lock resolver's decisions over a fake TxnRpc (the layer below): what it asks the
// primary, what it resolves, what a reader may skip, and the async-commit decision from
// the secondaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeTs } from '../../../src/pd/timestamp.js';
import { Backoffer } from '../../../src/client/backoff.js';
import { BIG_TXN_KEYS, LockResolver } from '../../../src/client/txn/lock_resolver.js';
import type { TxnRpc } from '../../../src/client/txn/txn_rpc.js';
import type { LockInfo__Output } from '../../../src/proto-gen/nyx/kv/LockInfo.js';

type Req = Record<string, unknown>;

/** Answers each command from a handler; records every request. */
class FakeRpc {
  calls: { cmd: string; req: Req }[] = [];
  constructor(private readonly answer: (cmd: string, req: Req) => Req) {}
  private respond(cmd: string, req: Req): Req {
    this.calls.push({ cmd, req });
    // The zero values the proto loader gives absent fields (defaults: true).
    const zero = { regionError: null, error: null, commitVersion: '0', lockTtl: '0' };
    return { ...zero, action: 'NoAction', lockInfo: null, ...this.answer(cmd, req) };
  }
  async onKey(_bo: Backoffer, _key: Buffer, cmd: string, build: (ctx: object) => Req) {
    return { resp: this.respond(cmd, build({})), loc: {} };
  }
  async forEachRegion<T>(
    bo: Backoffer,
    items: T[],
    _keyOf: (t: T) => Buffer,
    attempt: (bo: Backoffer, batch: { loc: object; items: T[] }) => Promise<boolean>,
  ) {
    // Two "Regions": the first item alone, then the rest.
    for (const part of [items.slice(0, 1), items.slice(1)]) {
      if (part.length > 0) assert.ok(await attempt(bo, { loc: {}, items: part }));
    }
  }
  async send(_bo: Backoffer, _loc: object, cmd: string, build: (ctx: object) => Req) {
    return this.respond(cmd, build({}));
  }
  of(cmd: string): Req[] {
    return this.calls.filter((c) => c.cmd === cmd).map((c) => c.req);
  }
}

const START = composeTs(1_000_000, 5);
const NOW = composeTs(1_000_500, 0); // 500 ms after START

function lock(over: Partial<LockInfo__Output> = {}): LockInfo__Output {
  return {
    primaryLock: Buffer.from('p'),
    lockVersion: START.toString(),
    key: Buffer.from('k'),
    lockTtl: '3000',
    txnSize: '2',
    lockType: 'LockPut',
    lockForUpdateTs: '0',
    useAsyncCommit: false,
    minCommitTs: '0',
    secondaries: [],
    ...over,
  };
}

function resolver(rpc: FakeRpc, now = NOW): LockResolver {
  return new LockResolver(rpc as unknown as TxnRpc, async () => now);
}

const bo = (): Backoffer => new Backoffer({ deadlineMs: 1000 });

test('a committed primary: the lock is rolled forward at its commit_ts', async () => {
  const commitTs = START + 10n;
  const rpc = new FakeRpc((cmd) =>
    cmd === 'checkTxnStatus' ? { commitVersion: commitTs.toString(), lockTtl: '0' } : {},
  );
  const r = await resolver(rpc).resolve(bo(), START + 5n, [lock()]);
  assert.deepEqual(r, { msBeforeExpired: 0, ignore: [START] }, 'committed after the reader: skip');
  const [check] = rpc.of('checkTxnStatus');
  assert.equal(check!.primaryKey!.toString(), 'p');
  assert.equal(check!.callerStartTs, (START + 5n).toString());
  assert.equal(check!.rollbackIfNotExist, false, 'the lock is within its TTL');
  assert.deepEqual(
    rpc.of('resolveLock').map((q) => [q.startVersion, q.commitVersion]),
    [[START.toString(), commitTs.toString()]],
  );
});

test("a small transaction's lock is resolved alone; a big one's with all its locks in the Region", async () => {
  const rpc = new FakeRpc((cmd) => (cmd === 'checkTxnStatus' ? { lockTtl: '0' } : {}));
  await resolver(rpc).resolve(bo(), 0n, [lock({ txnSize: String(BIG_TXN_KEYS - 1) })]);
  const big = composeTs(1_000_001, 0);
  await resolver(rpc).resolve(bo(), 0n, [
    lock({ lockVersion: big.toString(), key: Buffer.from('b'), txnSize: String(BIG_TXN_KEYS) }),
  ]);
  assert.deepEqual(
    rpc.of('resolveLock').map((q) => [q.startVersion, (q.keys as Buffer[]).map(String)]),
    [
      [START.toString(), ['k']],
      [big.toString(), []],
    ],
  );
});

test('the fate of a finished transaction is remembered', async () => {
  const rpc = new FakeRpc((cmd) => (cmd === 'checkTxnStatus' ? { lockTtl: '0' } : {}));
  const res = resolver(rpc);
  await res.resolve(bo(), 0n, [lock()]);
  await res.resolve(bo(), 0n, [lock({ key: Buffer.from('k2') })]);
  assert.equal(rpc.of('checkTxnStatus').length, 1);
  assert.deepEqual(
    rpc.of('resolveLock').map((q) => q.commitVersion),
    ['0', '0'],
    'both Regions rolled back',
  );
});

test('a live lock pushed past the reader is skipped; one not pushed is waited for', async () => {
  const pushed = new FakeRpc(() => ({ lockTtl: '3000', action: 'MinCommitTsPushed' }));
  assert.deepEqual(await resolver(pushed).resolve(bo(), START + 1n, [lock()]), {
    msBeforeExpired: 0,
    ignore: [START],
  });
  assert.equal(pushed.of('resolveLock').length, 0, 'nothing to resolve while it lives');
  const live = new FakeRpc(() => ({ lockTtl: '3000', action: 'NoAction' }));
  const r = await resolver(live).resolve(bo(), 0n, [lock()]);
  assert.deepEqual(r.ignore, []);
  assert.equal(r.msBeforeExpired, 2500, 'TTL 3000 from start_ts, 500 ms gone');
});

test('an expired lock asks the primary to roll back even if it is not there yet', async () => {
  const rpc = new FakeRpc((cmd) => (cmd === 'checkTxnStatus' ? { lockTtl: '0' } : {}));
  await resolver(rpc, composeTs(1_004_000, 0)).resolve(bo(), 0n, [lock()]);
  assert.equal(rpc.of('checkTxnStatus')[0]!.rollbackIfNotExist, true);
});

test('an expired async-commit primary: all secondaries locked means committed at their max min_commit_ts', async () => {
  const late = composeTs(1_004_000, 0);
  const primary = lock({
    key: Buffer.from('p'),
    useAsyncCommit: true,
    minCommitTs: (START + 3n).toString(),
    secondaries: [Buffer.from('s1'), Buffer.from('s2')],
  });
  const rpc = new FakeRpc((cmd, req) => {
    if (cmd === 'checkTxnStatus') return { lockTtl: '3000', lockInfo: primary };
    if (cmd === 'checkSecondaryLocks') {
      const keys = req.keys as Buffer[];
      return {
        commitTs: '0',
        locks: keys.map((k, i) =>
          lock({ key: k, useAsyncCommit: true, minCommitTs: (START + 7n + BigInt(i)).toString() }),
        ),
      };
    }
    return {};
  });
  const r = await resolver(rpc, late).resolve(bo(), 0n, [
    lock({ useAsyncCommit: true, key: Buffer.from('s1') }),
  ]);
  assert.equal(r.msBeforeExpired, 0);
  // Keys p | s1, s2 in the fake's two Regions: the max min_commit_ts is START+8.
  const resolved = rpc.of('resolveLock');
  assert.ok(resolved.length >= 2);
  for (const q of resolved) assert.equal(q.commitVersion, (START + 8n).toString());
});

test('an expired async-commit primary with a secondary missing is rolled back', async () => {
  const late = composeTs(1_004_000, 0);
  const primary = lock({
    key: Buffer.from('p'),
    useAsyncCommit: true,
    secondaries: [Buffer.from('s1')],
  });
  const rpc = new FakeRpc((cmd, req) => {
    if (cmd === 'checkTxnStatus') return { lockTtl: '3000', lockInfo: primary };
    if (cmd === 'checkSecondaryLocks') {
      const keys = req.keys as Buffer[];
      // s1 never got its prewrite: the check leaves a rollback and reports no lock.
      return {
        commitTs: '0',
        locks: keys
          .filter((k) => k.toString() === 'p')
          .map((k) => lock({ key: k, useAsyncCommit: true })),
      };
    }
    return {};
  });
  await resolver(rpc, late).resolve(bo(), 0n, [lock({ useAsyncCommit: true })]);
  const resolved = rpc.of('resolveLock');
  assert.ok(resolved.length >= 2);
  for (const q of resolved) assert.equal(q.commitVersion, '0');
});

test('a reader does not wait for the resolve of a lock it may skip; one that needs the value, and a writer, do', async () => {
  const commitTs = START + 10n;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const rpc = new FakeRpc((cmd) =>
    cmd === 'checkTxnStatus' ? { commitVersion: commitTs.toString(), lockTtl: '0' } : {},
  );
  // ResolveLock is sent at once but answered only when the test says so.
  const onKey = rpc.onKey.bind(rpc);
  rpc.onKey = async (b, key, cmd, build) => {
    const r = await onKey(b, key, cmd, build);
    if (cmd === 'resolveLock') await held;
    return r;
  };
  const background: Promise<unknown>[] = [];
  const res = new LockResolver(
    rpc as unknown as TxnRpc,
    async () => NOW,
    (w) => background.push(w),
  );

  // Committed after the reader's snapshot: skipped, and the read goes on at once.
  const r = await res.resolve(bo(), START + 5n, [lock()]);
  assert.deepEqual(r, { msBeforeExpired: 0, ignore: [START] });
  assert.equal(rpc.of('resolveLock').length, 1, 'the resolve was sent');
  assert.equal(background.length, 1, 'and left running');

  // Committed inside the snapshot: the reader needs the value, so it waits; so does a writer.
  const ended: string[] = [];
  const reader = res
    .resolve(bo(), START + 20n, [lock({ key: Buffer.from('k2') })])
    .then(() => ended.push('reader'));
  const writer = res
    .resolve(bo(), 0n, [lock({ key: Buffer.from('k3') })])
    .then(() => ended.push('writer'));
  await new Promise((done) => setTimeout(done, 20));
  assert.deepEqual(ended, [], 'both wait for their roll-forward');
  assert.equal(rpc.of('resolveLock').length, 3);
  release();
  await Promise.all([reader, writer, ...background]);
  assert.deepEqual(ended.sort(), ['reader', 'writer']);
});

// The Committer's error contract at the layer below it (TxnRpc faked): a 2PC commit that
// fails before its commit point — a prewrite without an answer, no commit_ts from PD —
// definitely did not commit (Percolator §2.2: the primary's commit record is the commit
// point, and only the commit RPC writes it), so it must say so with a TxnAbortedError
// (the cause attached, retryable as the cause is) rather than surface a bare timeout
// that an application cannot tell from "outcome unknown". Found by the chaos suite's
// bank workload: RequestTimeoutError and PdUnavailableError came out of commit().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE_CLIENT_CLOCK } from '../../../src/client/client_clock.js';
import { RequestTimeoutError } from '../../../src/client/errors.js';
import { PdUnavailableError } from '../../../src/client/pd_errors.js';
import { Committer, type CommitterDeps } from '../../../src/client/txn/committer.js';
import type { LockResolver } from '../../../src/client/txn/lock_resolver.js';
import type { BufferedMutation } from '../../../src/client/txn/mutation_buffer.js';
import { CommitUndeterminedError, TxnAbortedError } from '../../../src/client/txn/txn_errors.js';
import type { TxnRpc } from '../../../src/client/txn/txn_rpc.js';

const loc = { region: { id: 1, startKey: Buffer.alloc(0), endKey: Buffer.alloc(0) } };
const mutations: BufferedMutation[] = [
  { kind: 'put', key: Buffer.from('a'), value: Buffer.from('1') },
  { kind: 'put', key: Buffer.from('b'), value: Buffer.from('2') },
];

/** One Region holding every key; `answer` decides each command's fate. */
function fakeRpc(answer: (cmd: string) => unknown): { rpc: TxnRpc; sent: string[] } {
  const sent: string[] = [];
  const rpc = {
    group: async <T>(_bo: unknown, items: T[]) => [{ loc, items }],
    forEachRegion: async <T>(
      bo: unknown,
      items: T[],
      _keyOf: unknown,
      attempt: (bo: unknown, batch: { loc: unknown; items: T[] }) => Promise<boolean>,
    ) => {
      await attempt(bo, { loc, items });
    },
    send: async (_bo: unknown, _loc: unknown, cmd: string) => {
      sent.push(cmd);
      return answer(cmd);
    },
    onKey: async (_bo: unknown, _key: unknown, cmd: string) => {
      sent.push(cmd);
      return { resp: answer(cmd), loc };
    },
  };
  return { rpc: rpc as unknown as TxnRpc, sent };
}

function committer(rpc: TxnRpc, tso: () => Promise<bigint>, asyncCommit = false): Committer {
  const deps: CommitterDeps = {
    rpc,
    resolver: {} as LockResolver,
    tso,
    background: (work) => void work.catch(() => undefined),
  };
  return new Committer(
    100n,
    mutations,
    {
      lockTtlMs: 3000,
      asyncCommit,
      onePC: false,
      forUpdateTs: 0n,
      pessimisticLocked: new Set(),
      backoff: { deadlineMs: 1000 },
      lockWaitMs: 100,
      startedAtMs: performance.now(),
      clock: NODE_CLIENT_CLOCK,
    },
    deps,
  );
}

const prewriteOk = { errors: [], minCommitTs: '0', onePcCommitTs: '0' };

test('2PC: a prewrite that timed out is a definite abort, retryable, with the timeout as cause', async () => {
  const { rpc, sent } = fakeRpc((cmd) => {
    if (cmd === 'prewrite') throw new RequestTimeoutError('127.0.0.1:1', 'no answer');
    return { errors: [] };
  });
  await assert.rejects(committer(rpc, async () => 200n).commit(), (e: unknown) => {
    assert.ok(e instanceof TxnAbortedError, String(e));
    assert.ok(e.cause instanceof RequestTimeoutError);
    assert.equal(e.retryable, true);
    return true;
  });
  assert.ok(!sent.includes('commit'), 'nothing was committed');
});

test('2PC: no commit_ts from PD after the prewrites is a definite abort too', async () => {
  const { rpc, sent } = fakeRpc(() => prewriteOk);
  await assert.rejects(
    committer(rpc, async () => {
      throw new PdUnavailableError('127.0.0.1:2379', 'connection refused');
    }).commit(),
    (e: unknown) => {
      assert.ok(e instanceof TxnAbortedError, String(e));
      assert.ok(e.cause instanceof PdUnavailableError);
      return true;
    },
  );
  assert.ok(!sent.includes('commit'));
});

test('async commit: a prewrite without an answer stays undetermined (the prewrites are the commit point)', async () => {
  const { rpc } = fakeRpc((cmd) => {
    if (cmd === 'prewrite') throw new RequestTimeoutError('127.0.0.1:1', 'no answer');
    return { errors: [] };
  });
  await assert.rejects(committer(rpc, async () => 200n, true).commit(), CommitUndeterminedError);
});

test('1PC is tried only while one request holds every key: after a split it is 2PC', async () => {
  // Found by a chaos bank run (split nemesis): a transfer within one Region was sent as
  // 1PC, its Region split before the prewrite landed (a region error: not applied), and the
  // retry sent each half as its own 1PC. One half committed on its own and the other
  // failed: the debit without the credit.
  const prewrites: { keys: string[]; tryOnePc: boolean }[] = [];
  const other = { region: { id: 2, startKey: Buffer.from('b'), endKey: Buffer.alloc(0) } };
  let split = false;
  const rpc = {
    group: async <T>(_bo: unknown, items: T[]) => [{ loc, items }],
    forEachRegion: async <T>(
      bo: unknown,
      items: T[],
      _keyOf: unknown,
      attempt: (bo: unknown, batch: { loc: unknown; items: T[] }) => Promise<boolean>,
    ) => {
      // The first attempt meets the split; the retry regroups into the two halves.
      if (!(await attempt(bo, { loc, items }))) {
        split = true;
        await attempt(bo, { loc, items: items.slice(0, 1) });
        await attempt(bo, { loc: other, items: items.slice(1) });
      }
    },
    send: async (
      _bo: unknown,
      _loc: unknown,
      cmd: string,
      build: (ctx: unknown) => { mutations: { key: Buffer }[]; tryOnePc: boolean },
    ) => {
      if (cmd === 'prewrite') {
        const req = build({});
        prewrites.push({
          keys: req.mutations.map((m) => m.key.toString()),
          tryOnePc: req.tryOnePc,
        });
        if (!split) return undefined; // EpochNotMatch: regroup and retry
        return prewriteOk;
      }
      return { errors: [], commitVersion: '200' };
    },
    onKey: async () => ({ resp: { errors: [], commitVersion: '200' }, loc }),
  } as unknown as TxnRpc;
  const c = new Committer(
    100n,
    mutations,
    {
      lockTtlMs: 3000,
      asyncCommit: false,
      onePC: true,
      forUpdateTs: 0n,
      pessimisticLocked: new Set(),
      backoff: { deadlineMs: 1000 },
      lockWaitMs: 100,
      startedAtMs: performance.now(),
      clock: NODE_CLIENT_CLOCK,
    },
    {
      rpc,
      resolver: {} as LockResolver,
      tso: async () => 200n,
      background: (work) => void work.catch(() => undefined),
    },
  );
  await c.commit();
  assert.deepEqual(prewrites, [
    { keys: ['a', 'b'], tryOnePc: true },
    { keys: ['a'], tryOnePc: false },
    { keys: ['b'], tryOnePc: false },
  ]);
  assert.equal(c.path, '2pc');
});

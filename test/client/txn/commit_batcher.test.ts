// The commit batcher over a fake TxnRpc (the layer below): decided transactions' keys
// queued in one event-loop turn go to each Region as ONE ResolveLock carrying every
// transaction's commit_ts; a batch that fails hands each transaction's keys back to its
// own commit path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitBatcher } from '../../../src/client/txn/commit_batcher.js';
import type { TxnRpc } from '../../../src/client/txn/txn_rpc.js';

type Req = {
  txnInfos: { txn: string; status: string }[];
  keys: Buffer[];
};

const regionA = { region: { id: 1, startKey: Buffer.alloc(0), endKey: Buffer.from('m') } };
const regionB = { region: { id: 2, startKey: Buffer.from('m'), endKey: Buffer.alloc(0) } };

/** Two Regions split at 'm'; `answer` decides each ResolveLock's fate. */
function fakeRpc(answer: (req: Req) => unknown, maxBatchKeys = 256) {
  const sent: { region: number; req: Req }[] = [];
  const rpc = {
    maxBatchKeys,
    group: async (_bo: unknown, keys: Buffer[]) => {
      const a = keys.filter((k) => Buffer.compare(k, Buffer.from('m')) < 0);
      const b = keys.filter((k) => Buffer.compare(k, Buffer.from('m')) >= 0);
      return [
        ...(a.length ? [{ loc: regionA, items: a }] : []),
        ...(b.length ? [{ loc: regionB, items: b }] : []),
      ];
    },
    send: async (_bo: unknown, loc: typeof regionA, cmd: string, build: (ctx: object) => Req) => {
      assert.equal(cmd, 'resolveLock');
      const req = build({});
      sent.push({ region: loc.region.id, req });
      return answer(req);
    },
  };
  return { rpc: rpc as unknown as TxnRpc, sent };
}

const keys = (...ks: string[]): Buffer[] => ks.map((k) => Buffer.from(k));
const noFallback = async (): Promise<void> => {
  throw new Error('no fallback expected');
};

test('three transactions committed in one turn: one ResolveLock per Region, with every commit_ts', async () => {
  const { rpc, sent } = fakeRpc(() => ({ error: null }));
  const b = new CommitBatcher(rpc, { deadlineMs: 1000 });
  await Promise.all([
    b.commit(10n, 20n, keys('a', 'x'), noFallback),
    b.commit(11n, 21n, keys('b', 'y'), noFallback),
    b.commit(12n, 22n, keys('c'), noFallback),
  ]);
  assert.equal(sent.length, 2, 'one request per Region, not one per transaction and Region');
  const byRegion = new Map(sent.map((s) => [s.region, s.req]));
  assert.deepEqual(byRegion.get(1)!.keys.map(String), ['a', 'b', 'c']);
  assert.deepEqual(byRegion.get(1)!.txnInfos, [
    { txn: '10', status: '20' },
    { txn: '11', status: '21' },
    { txn: '12', status: '22' },
  ]);
  assert.deepEqual(byRegion.get(2)!.keys.map(String), ['x', 'y']);
  assert.deepEqual(b.stats, { requests: 2, parts: 5 });
});

test('a batch is cut at maxBatchKeys keys', async () => {
  const { rpc, sent } = fakeRpc(() => ({ error: null }), 3);
  const b = new CommitBatcher(rpc, { deadlineMs: 1000 });
  await Promise.all([
    b.commit(10n, 20n, keys('a', 'b'), noFallback),
    b.commit(11n, 21n, keys('c', 'd'), noFallback),
  ]);
  assert.deepEqual(
    sent.map((s) => s.req.keys.map(String)),
    [
      ['a', 'b'],
      ['c', 'd'],
    ],
  );
});

test("a failed batch (region error, key error) falls back to each transaction's own commit", async () => {
  for (const failure of [undefined, { error: { kind: 'abort' } }]) {
    const { rpc } = fakeRpc((req) => (req.keys.length > 1 ? failure : { error: null }));
    const b = new CommitBatcher(rpc, { deadlineMs: 1000 });
    const fellBack: string[][] = [];
    await Promise.all([
      b.commit(10n, 20n, keys('a'), async (k) => void fellBack.push(k.map(String))),
      b.commit(11n, 21n, keys('b', 'x'), async (k) => void fellBack.push(k.map(String))),
    ]);
    // Region 1 held a and b (failed, both fall back); Region 2 only x (committed).
    assert.deepEqual(fellBack.sort(), [['a'], ['b']]);
  }
});

test('a commit_ts not above start_ts is refused before anything is sent', async () => {
  const { rpc, sent } = fakeRpc(() => ({ error: null }));
  const b = new CommitBatcher(rpc, { deadlineMs: 1000 });
  await assert.rejects(b.commit(10n, 10n, keys('a'), noFallback), RangeError);
  assert.equal(sent.length, 0);
});

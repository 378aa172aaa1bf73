// The store's holder of `nyx txn begin` transactions, over a fake TxnClient (the layer
// below): ids, idle expiry with a clear error, the count limit, one call at a time per
// transaction, and the end of a transaction at commit or rollback.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TxnClient } from '../../../src/client/txn/txn_client.js';
import type { Transaction, TxnState } from '../../../src/client/txn/transaction.js';
import { parseTxnId } from '../../../src/client/txn/txn_id.js';
import { TxnHost, TxnHostRefusal } from '../../../src/store/txn_host/txn_host.js';

class FakeTxn {
  state: TxnState = 'active';
  log: string[] = [];
  constructor(readonly startTs: bigint) {}
  async get(key: Buffer): Promise<Buffer | undefined> {
    this.log.push(`get ${key}`);
    await new Promise((r) => setTimeout(r, 20));
    this.log.push(`got ${key}`);
    return undefined;
  }
  async commit(): Promise<bigint> {
    this.state = 'committed';
    return this.startTs + 1n;
  }
  async rollback(): Promise<void> {
    this.state = 'rolledBack';
  }
}

function fakeClient(): { client: TxnClient; txns: FakeTxn[] } {
  const txns: FakeTxn[] = [];
  let ts = 100n;
  const client = {
    begin: async () => {
      const t = new FakeTxn((ts += 10n));
      txns.push(t);
      return t as unknown as Transaction;
    },
  } as unknown as TxnClient;
  return { client, txns };
}

const refusal = (code: string, re: RegExp) => (e: unknown) =>
  e instanceof TxnHostRefusal && e.code === code && re.test(e.message);

test('begin hands out ids that name the store and the start_ts', async () => {
  const { client } = fakeClient();
  const host = new TxnHost(client, { storeId: 7, idleTtlMs: 10_000, maxTxns: 10 });
  const a = await host.begin({});
  const b = await host.begin({});
  assert.notEqual(a.id, b.id);
  assert.deepEqual(
    { ...parseTxnId(a.id), token: '' },
    { storeId: 7, startTs: a.startTs, token: '' },
  );
  await host.close();
});

test('an idle transaction is rolled back after its TTL and later calls say so', async () => {
  const { client, txns } = fakeClient();
  const host = new TxnHost(client, { storeId: 1, idleTtlMs: 10_000, maxTxns: 10 });
  const { id, idleTtlMs } = await host.begin({}, 60);
  assert.equal(idleTtlMs, 60);
  await host.run(id, (t) => t.get(Buffer.from('k')));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(txns[0]!.state, 'rolledBack');
  assert.equal(host.count, 0);
  await assert.rejects(
    host.run(id, (t) => t.commit(), true),
    refusal('EXPIRED', /was rolled back after 60 ms without a call/),
  );
});

test('a timer that fires early by the clock waits out only the rest of the TTL', async (t) => {
  // A timer counts from the event loop's time, taken when the loop woke; a call stamped
  // later in that turn makes the timer fire "early" by the wall clock. Here the timers
  // stand still while the clock moves 5 ms during a call.
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const settle = () => new Promise((r) => setImmediate(r));
  let clock = 0;
  const { client, txns } = fakeClient();
  const host = new TxnHost(client, {
    storeId: 1,
    idleTtlMs: 100,
    maxTxns: 10,
    now: () => clock,
  });
  const { id } = await host.begin({});
  clock = 5;
  await host.run(id, async () => 0);
  clock = 100;
  mock.timers.tick(100);
  await settle();
  assert.equal(txns[0]!.state, 'active', 'idle 95 ms of 100');
  clock = 105;
  mock.timers.tick(5);
  await settle();
  assert.equal(txns[0]!.state, 'rolledBack', 'rolled back at its TTL, not a TTL later');
  assert.equal(host.count, 0);
});

test('calls keep a transaction alive; a TTL above the store limit is capped', async () => {
  const { client, txns } = fakeClient();
  const host = new TxnHost(client, { storeId: 1, idleTtlMs: 100, maxTxns: 10 });
  const { id, idleTtlMs } = await host.begin({}, 1_000_000);
  assert.equal(idleTtlMs, 100);
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 50));
    await host.run(id, (t) => t.get(Buffer.from(`k${i}`)));
  }
  assert.equal(txns[0]!.state, 'active');
  assert.equal(await host.run(id, (t) => t.commit(), true), txns[0]!.startTs + 1n);
  await assert.rejects(
    host.run(id, (t) => t.get(Buffer.from('x'))),
    refusal('UNKNOWN_TXN', /is already committed/),
  );
});

test('at most maxTxns live transactions', async () => {
  const { client } = fakeClient();
  const host = new TxnHost(client, { storeId: 1, idleTtlMs: 10_000, maxTxns: 2 });
  const a = await host.begin({});
  await host.begin({});
  await assert.rejects(host.begin({}), refusal('TOO_MANY', /holds 2 open transactions/));
  await host.run(a.id, (t) => t.rollback(), true);
  await host.begin({});
  await host.close();
});

test('calls on one transaction run one at a time, in order', async () => {
  const { client, txns } = fakeClient();
  const host = new TxnHost(client, { storeId: 1, idleTtlMs: 10_000, maxTxns: 2 });
  const { id } = await host.begin({});
  await Promise.all(['a', 'b', 'c'].map((k) => host.run(id, (t) => t.get(Buffer.from(k)))));
  assert.deepEqual(txns[0]!.log, ['get a', 'got a', 'get b', 'got b', 'get c', 'got c']);
  await host.close();
  assert.equal(txns[0]!.state, 'rolledBack', 'close rolls back what is held');
});

test('ids that are malformed or of another store are refused', async () => {
  const { client } = fakeClient();
  const host = new TxnHost(client, { storeId: 1, idleTtlMs: 10_000, maxTxns: 2 });
  await assert.rejects(
    host.run('nope', async () => 0),
    refusal('INVALID', /not a transaction id/),
  );
  await assert.rejects(
    host.run('2.123.0123456789abcdef', async () => 0),
    refusal('UNKNOWN_TXN', /belongs to store 2/),
  );
  await assert.rejects(
    host.run('1.123.0123456789abcdef', async () => 0),
    refusal('UNKNOWN_TXN', /no open transaction/),
  );
});

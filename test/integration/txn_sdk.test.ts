// The TxnClient against a real cluster (PD + 3 stores, 4 Regions): the basic contract
// (snapshot reads, own writes, typed conflicts, the 1PC / async commit / 2PC paths),
// then the bank invariant and a list-append history checked for SI anomalies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import { createTxnClient } from '../../src/client/create_client.js';
import { runInTransaction } from '../../src/client/txn/run_in_transaction.js';
import {
  DeadlockError,
  KeyExistsError,
  TxnClosedError,
  WriteConflictError,
} from '../../src/client/txn/txn_errors.js';
import { checkListAppend } from '../check/list_append/checker.js';
import { nyx } from '../cli/nyx.js';
import { TestCluster, eventually } from './cluster.js';
import { runBank, runListAppend, spreadKeys } from './txn_workloads.js';

const REGIONS = 4;

describe('transactions on a real cluster', () => {
  let c: TestCluster;
  const clients: TxnClient[] = [];
  const client = (opts: Parameters<typeof createTxnClient>[0] | object = {}): TxnClient => {
    const t = createTxnClient({ pd: c.pd, ...opts });
    clients.push(t);
    return t;
  };
  before(async () => {
    c = await TestCluster.start({ regions: REGIONS });
  });
  after(async () => {
    for (const t of clients) t.close();
    await c.stop();
  });

  test('reads see the snapshot at start_ts plus the transaction own writes', async () => {
    const t = client();
    const [a, b] = spreadKeys('snap', 2, REGIONS);
    const w = await t.begin();
    await w.put(a!, 'a1');
    await w.put(b!, 'b1');
    assert.equal((await w.get(a!))?.toString(), 'a1', 'reads its own write');
    const before = await t.begin();
    const commitTs = await w.commit();
    assert.ok(commitTs > w.startTs);
    assert.equal(await before.get(a!), undefined, 'an older snapshot does not see it');
    const later = await t.begin();
    assert.equal((await later.get(b!))?.toString(), 'b1');
    await later.delete(a!);
    assert.equal(await later.get(a!), undefined, 'own delete hides the key');
    const scanned = await later.scan(b!.slice(0, 1), '', { limit: 100 });
    assert.ok(scanned.some((p) => p.key.toString() === b));
    assert.ok(!scanned.some((p) => p.key.toString() === a));
    await later.rollback();
    await assert.rejects(later.get(b!), TxnClosedError);
    assert.equal((await (await t.begin()).get(a!))?.toString(), 'a1', 'rollback wrote nothing');
  });

  test('first committer wins: the second writer gets a WriteConflictError naming the key', async () => {
    const t = client();
    const [k] = spreadKeys('conflict', 1, REGIONS);
    const t1 = await t.begin();
    const t2 = await t.begin();
    // Both read the key first (a read-modify-write: the lost-update case). The read also
    // tells the store's max_ts about t2, so even a 1PC commit of t1 lands after t2's
    // start (a blind 1PC write may legally take a commit_ts below a start_ts the store
    // never saw).
    assert.equal(await t1.get(k!), undefined);
    assert.equal(await t2.get(k!), undefined);
    await t1.put(k!, 'one');
    await t2.put(k!, 'two');
    await t1.commit();
    await assert.rejects(t2.commit(), (e: unknown) => {
      assert.ok(e instanceof WriteConflictError, String(e));
      assert.equal(e.key.toString(), k);
      assert.equal(e.retryable, true);
      return true;
    });
    assert.equal((await (await t.begin()).get(k!))?.toString(), 'one');
  });

  test('an insert of an existing key fails with KeyExistsError', async () => {
    const t = client();
    const [k] = spreadKeys('insert', 1, REGIONS);
    await runInTransaction(t, (x) => x.put(k!, 'v'));
    const x = await t.begin();
    await x.insert(k!, 'again');
    await assert.rejects(x.commit(), KeyExistsError);
  });

  test('the commit paths: 1PC in one Region, async commit and 2PC across Regions', async () => {
    const t = client();
    const one = await t.begin({ onePC: true });
    const [p, q] = spreadKeys('path', 2, REGIONS);
    await one.put(`${p}-x`, '1');
    await one.put(`${p}-y`, '1');
    await one.commit();
    const two = await t.begin({ onePC: true });
    await two.put(p!, '1');
    await two.put(q!, '1');
    await two.commit();
    assert.equal(two.commitPath, '2pc');
    const asy = await t.begin({ asyncCommit: true });
    await asy.put(p!, '2');
    await asy.put(q!, '2');
    const ts = await asy.commit();
    const seen = await (await t.begin()).batchGet([p!, q!]);
    assert.deepEqual([...seen.values()].map(String), ['2', '2']);
    assert.ok(ts > asy.startTs);
    // The store may fall back (1PC or async commit off): the result must be committed either way.
    assert.ok(['1pc', '2pc'].includes(one.commitPath), one.commitPath);
    assert.ok(['async', '2pc'].includes(asy.commitPath), asy.commitPath);
    await t.flush();
  });

  test('pessimistic: a read-modify-write over a newer commit fails at the write (no lost update)', async () => {
    const t = client();
    const [k] = spreadKeys('pess-lost', 1, REGIONS);
    await runInTransaction(t, async (x) => x.put(k!, '100'));
    const a = await t.begin({ pessimistic: true });
    const seen = Number((await a.get(k!))?.toString()); // 100, at a's start_ts
    const b = await t.begin();
    await b.put(k!, String(seen + 1));
    await b.commit();
    // a locks k after b's commit: writing seen + 10 would erase b's +1.
    await assert.rejects(a.put(k!, String(seen + 10)), WriteConflictError);
    await a.rollback();
    assert.equal((await (await t.begin()).get(k!))?.toString(), '101');
  });

  test('pessimistic: a write waits for the holder, and a lock cycle fails one side with DeadlockError', async () => {
    const t = client();
    const [k] = spreadKeys('pess', 1, REGIONS);
    // The cycle's keys share a Region: the store's wait-for graph is per store.
    const [x, y] = [`${k}-x`, `${k}-y`];
    const t1 = await t.begin({ pessimistic: true });
    const t2 = await t.begin({ pessimistic: true });
    await t1.put(k!, '1');
    let t2Settled = false;
    const p2 = t2.put(k!, '2').finally(() => (t2Settled = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t2Settled, false, 'the second writer waits while the first holds the lock');
    await t1.commit();
    // t1 committed after t2's start_ts: t2 never saw that write, so it may not write over
    // it (first committer wins); it runs again with a new start_ts.
    await assert.rejects(p2, WriteConflictError);
    await t2.rollback();
    const t3 = await t.begin({ pessimistic: true });
    await t3.put(k!, '3');
    await t3.commit();
    assert.equal((await (await t.begin()).get(k!))?.toString(), '3');

    const a = await t.begin({ pessimistic: true });
    const b = await t.begin({ pessimistic: true });
    await a.put(x!, 'a');
    await b.put(y!, 'b');
    // a waits for b's y, b waits for a's x: the store refuses the wait that closes the cycle;
    // the refused side rolls back, which lets the other through.
    const giveUp = (txn: typeof a) => async (e: unknown) => {
      await txn.rollback();
      throw e;
    };
    const results = await Promise.allSettled([
      a.put(y!, 'a').catch(giveUp(a)),
      b.put(x!, 'b').catch(giveUp(b)),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(
      failed.length,
      1,
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join('; '),
    );
    assert.ok((failed[0] as PromiseRejectedResult).reason instanceof DeadlockError);
    const winner = results[0]!.status === 'fulfilled' ? a : b;
    await winner.commit();
  });

  test('a lock cycle through two stores fails one side with DeadlockError (PD sees both waits)', async () => {
    const t = client();
    const pd = c.pdClient();
    const keys = spreadKeys('xdl', REGIONS, REGIONS);
    const placed = async () =>
      Promise.all(
        keys.map(async (k) => {
          const info = await pd.getRegion(Buffer.from(k!));
          return { key: k!, region: info!.region.id, store: info?.leader?.storeId };
        }),
      );
    // Two keys whose Regions are led from different stores, so that neither store's own
    // wait-for graph sees the whole cycle; move one leader if all sit on one store.
    // PD's map may lag a leader change the balancer makes meanwhile, and a Region may
    // have no leader yet: ask again until PD shows leaders on two stores.
    const all = await eventually('leaders on two stores in PD', async () => {
      const now = await placed();
      if (new Set(now.map((p) => p.store)).size > 1) return now;
      const other = [1, 2, 3].find((s) => s !== now[0]!.store)!;
      await nyx([
        'region',
        'transfer-leader',
        String(now[1]!.region),
        '--to-store',
        String(other),
        '--pd',
        c.pd,
      ]);
      return undefined;
    });
    const x = all[0]!;
    const y = all.find((p) => p.store !== x.store)!;
    assert.ok(y, `leaders: ${JSON.stringify(all)}`);

    const a = await t.begin({ pessimistic: true });
    const b = await t.begin({ pessimistic: true });
    await a.put(x.key, 'a');
    await b.put(y.key, 'b');
    const giveUp = (txn: typeof a) => async (e: unknown) => {
      await txn.rollback();
      throw e;
    };
    const results = await Promise.allSettled([
      a.put(y.key, 'a').catch(giveUp(a)),
      b.put(x.key, 'b').catch(giveUp(b)),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(
      failed.length,
      1,
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join('; '),
    );
    assert.ok((failed[0] as PromiseRejectedResult).reason instanceof DeadlockError);
    await (results[0]!.status === 'fulfilled' ? a : b).commit();
  });

  test('bank: concurrent transfers over 4 Regions never change the total', async () => {
    const setup = client();
    const accounts = spreadKeys('acct', 8, REGIONS);
    await runInTransaction(setup, async (x) => {
      for (const a of accounts) await x.put(a, '100');
    });
    const workers = [client(), client(), client()];
    const res = await runBank(
      workers,
      client(),
      accounts,
      800,
      { minMs: 3000, maxMs: 30_000 },
      {
        transfers: 10,
        reads: 10,
      },
    );
    assert.deepEqual(res.badTotals, [], 'a snapshot saw money appear or vanish');
    assert.deepEqual(res.errors.map(String), []);
    // The run lasts until it did this much (a Raft write takes 100-300 ms on a loaded
    // CI machine), or 30 s.
    assert.ok(res.transfers >= 10, `only ${res.transfers} transfers committed in 30 s`);
    assert.ok(res.reads >= 10, `only ${res.reads} snapshot reads in 30 s`);
    const final = await (await setup.begin()).batchGet(accounts);
    assert.equal(
      [...final.values()].reduce((s, v) => s + Number(v.toString()), 0),
      800,
    );
  });

  test('list-append: the history has no G0, G1a, G1b, G1c or G-single', async () => {
    const unexpected: Error[] = [];
    // 2PC, then async commit, each on its own keys (values are unique per run), each
    // until 15 transactions committed (at least 2 s, at most 20 s).
    const len = { minMs: 2000, maxMs: 20_000 };
    const h1 = await runListAppend(
      client(),
      spreadKeys('list2pc', 6, REGIONS),
      4,
      len,
      15,
      false,
      unexpected,
    );
    const h2 = await runListAppend(
      client(),
      spreadKeys('listasync', 6, REGIONS),
      4,
      len,
      15,
      true,
      unexpected,
    );
    // Distinct ids across the two runs.
    const history = [...h1, ...h2.map((t) => ({ ...t, id: t.id + 1_000_000 }))];
    const result = checkListAppend(history);
    assert.deepEqual(result.anomalies, []);
    assert.deepEqual(unexpected.map(String), []);
    const ok = history.filter((t) => t.status === 'ok').length;
    assert.ok(ok >= 30, `only ${ok} transactions committed`);
    assert.ok(result.edgeCount >= 20, `only ${result.edgeCount} dependencies inferred`);
  });
});

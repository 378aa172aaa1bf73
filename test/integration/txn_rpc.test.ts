// The transactional RPCs on a real cluster (PD + 3 stores, 4 Regions), driven over gRPC
// with timestamps from PD: racing prewrites, snapshot visibility of a commit, a reader
// meeting a lock and resolving it, 1PC, and the BatchCommands path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto } from '../../src/proto/load.js';
import type { PdClient } from '../../src/client/pd_client.js';
import { TestCluster, eventually } from './cluster.js';

type KeyErr = {
  message: string;
  locked?: { lockVersion: string; primaryLock: Buffer; key: Buffer } | null;
  conflict?: object | null;
} | null;

describe('transactional RPCs on a real cluster', () => {
  let c: TestCluster;
  let pd: PdClient;
  let call: <T>(method: string, req: object) => Promise<T>;
  let ctx: object;
  let kv: grpc.Client;

  /** Points `kv` and `ctx` at the current leader of the Region holding "hello". */
  const findLeader = async () => {
    const { region, leader } = await eventually('a known leader', async () => {
      const info = await pd.getRegion(Buffer.from('hello'));
      return info?.leader ? info : undefined;
    });
    const store = await pd.getStore(leader!.storeId);
    kv?.close();
    kv = new proto.kv.Kv(store!.address, grpc.credentials.createInsecure());
    ctx = {
      regionId: String(region.id),
      regionEpoch: { confVer: String(region.epoch.confVer), version: String(region.epoch.version) },
      peer: { id: String(leader!.id), storeId: String(leader!.storeId) },
    };
  };
  const { nyx: proto } = loadNyxProto();

  before(async () => {
    c = await TestCluster.start({ regions: 4 });
    pd = c.pdClient();
    // These tests talk to one Region's leader by hand: PD must not move it or merge it.
    await c.holdPlacement();
    // Keys from "h" on are in the last Region (the playground cuts at B, U and h).
    await findLeader();
    const send = <T>(method: string, req: object) =>
      new Promise<T>((resolve, reject) =>
        (kv as unknown as Record<string, (r: object, cb: (e: Error | null, r: T) => void) => void>)[
          method
        ]!(req, (e, r) => (e ? reject(e) : resolve(r))),
      );
    // An election on a loaded machine can still move the leader: follow it, as a client
    // does. Every command here is idempotent, so a retry cannot change an outcome.
    call = async <T>(method: string, req: object) => {
      for (let attempt = 0; ; attempt++) {
        const r = await send<T & { regionError?: { notLeader?: object } | null }>(method, req);
        if (!r.regionError?.notLeader || attempt === 10) return r;
        await new Promise((done) => setTimeout(done, 200));
        await findLeader();
        // Only the peer changes: a test's deliberately stale epoch stays stale.
        const context = (req as { context?: object }).context;
        if (context)
          req = { ...req, context: { ...context, peer: (ctx as { peer: object }).peer } };
      }
    };
  });
  after(async () => {
    kv?.close();
    await c.stop();
  });

  const ts = async () => String(await pd.getTimestamp());
  const put = (k: string, v: string) => ({ op: 'Put', key: Buffer.from(k), value: Buffer.from(v) });

  type PrewriteResp = { errors: KeyErr[]; regionError: object | null; onePcCommitTs: string };
  type GetResp = { error: KeyErr; regionError: object | null; value: Buffer; notFound: boolean };
  type PlainResp = { error: KeyErr; regionError: object | null };

  test('two racing prewrites of one key: exactly one wins', async () => {
    const [a, b] = [await ts(), await ts()];
    const prewrite = (start: string, v: string) =>
      call<PrewriteResp>('Prewrite', {
        context: ctx,
        mutations: [put('hrace', v)],
        primaryLock: Buffer.from('hrace'),
        startVersion: start,
        lockTtl: '3000',
      });
    const results = await Promise.all([prewrite(a, 'A'), prewrite(b, 'B')]);
    for (const r of results) assert.equal(r.regionError, null);
    const winners = results.filter((r) => r.errors.length === 0);
    assert.equal(winners.length, 1, JSON.stringify(results.map((r) => r.errors)));
    const loser = results.find((r) => r.errors.length > 0)!;
    assert.ok(
      loser.errors[0]!.locked,
      `the loser met the winner's lock: ${loser.errors[0]!.message}`,
    );
    const winnerStart = results[0]!.errors.length === 0 ? a : b;
    assert.equal(loser.errors[0]!.locked!.lockVersion, winnerStart);

    // The winner commits; a read before the commit_ts does not see it, one after does.
    const commitTs = await ts();
    const committed = await call<PlainResp & { commitVersion: string }>('Commit', {
      context: ctx,
      startVersion: winnerStart,
      keys: [Buffer.from('hrace')],
      commitVersion: commitTs,
    });
    assert.equal(committed.error, null);
    const before = await call<GetResp>('TxnGet', {
      context: ctx,
      key: Buffer.from('hrace'),
      version: String(BigInt(commitTs) - 1n),
    });
    assert.equal(before.error, null);
    assert.equal(before.notFound, true);
    const later = await call<GetResp>('TxnGet', {
      context: ctx,
      key: Buffer.from('hrace'),
      version: await ts(),
    });
    assert.equal(later.error, null);
    assert.equal(later.value.toString(), winnerStart === a ? 'A' : 'B');
    // The raw API does not see transactional data.
    const raw = await call<GetResp>('RawGet', { context: ctx, key: Buffer.from('hrace') });
    assert.equal(raw.notFound, true);
  });

  test('a reader meets a lock, checks the primary, resolves it and reads again', async () => {
    const start = await ts();
    const pw = await call<PrewriteResp>('Prewrite', {
      context: ctx,
      mutations: [put('hlocked', 'v1')],
      primaryLock: Buffer.from('hlocked'),
      startVersion: start,
      lockTtl: '20000',
    });
    assert.deepEqual(pw.errors, []);
    const readTs = await ts();
    const blocked = await call<GetResp>('TxnGet', {
      context: ctx,
      key: Buffer.from('hlocked'),
      version: readTs,
    });
    assert.equal(blocked.error?.locked?.lockVersion, start);
    const status = await call<PlainResp & { lockTtl: string; action: string }>('CheckTxnStatus', {
      context: ctx,
      primaryKey: Buffer.from('hlocked'),
      lockTs: start,
      callerStartTs: readTs,
      currentTs: await ts(),
    });
    assert.equal(status.error, null);
    assert.equal(status.lockTtl, '20000');
    assert.equal(status.action, 'MinCommitTsPushed');
    // Pushed past the reader: the same read now passes the lock.
    const passes = await call<GetResp>('TxnGet', {
      context: ctx,
      key: Buffer.from('hlocked'),
      version: readTs,
    });
    assert.equal(passes.error, null);
    assert.equal(passes.notFound, true);
    // A later reader decides to roll the transaction back (as after TTL expiry).
    const resolved = await call<PlainResp>('ResolveLock', {
      context: ctx,
      startVersion: start,
      commitVersion: '0',
    });
    assert.equal(resolved.error, null);
    const after = await call<GetResp>('TxnGet', {
      context: ctx,
      key: Buffer.from('hlocked'),
      version: await ts(),
    });
    assert.equal(after.error, null);
    assert.equal(after.notFound, true);
    const late = await call<PlainResp>('Commit', {
      context: ctx,
      startVersion: start,
      keys: [Buffer.from('hlocked')],
      commitVersion: await ts(),
    });
    assert.ok(late.error?.message.includes('not found'), late.error?.message);
  });

  test('1PC commits in one proposal; BatchCommands serves txn commands', async () => {
    const start = await ts();
    const pw = await call<PrewriteResp>('Prewrite', {
      context: ctx,
      mutations: [put('hone', '1'), put('htwo', '2')],
      primaryLock: Buffer.from('hone'),
      startVersion: start,
      lockTtl: '3000',
      tryOnePc: true,
    });
    assert.deepEqual(pw.errors, []);
    assert.ok(BigInt(pw.onePcCommitTs) > BigInt(start));
    const stream = (
      kv as unknown as { BatchCommands(): grpc.ClientDuplexStream<object, object> }
    ).BatchCommands();
    const resp = new Promise<{ responses: { requestId: string; txnBatchGet?: object }[] }>(
      (resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
      },
    );
    stream.write({
      requests: [
        {
          requestId: '7',
          txnBatchGet: {
            context: ctx,
            keys: [Buffer.from('hone'), Buffer.from('htwo'), Buffer.from('hnone')],
            version: await ts(),
          },
        },
      ],
    });
    const r = (await resp).responses[0]!;
    stream.end();
    assert.equal(r.requestId, '7');
    const pairs = (r.txnBatchGet as { pairs: { key: Buffer; value: Buffer }[] }).pairs;
    assert.deepEqual(
      pairs.map((p) => `${p.key}=${p.value}`),
      ['hone=1', 'htwo=2'],
    );
  });

  test('keys outside the Region and stale epochs get region errors', async () => {
    const r = await call<GetResp>('TxnGet', {
      context: ctx,
      key: Buffer.from('A'),
      version: await ts(),
    });
    assert.ok(r.regionError);
    const p = await call<PrewriteResp>('Prewrite', {
      context: { ...(ctx as object), regionEpoch: { confVer: '1', version: '0' } },
      mutations: [put('hx', '1')],
      primaryLock: Buffer.from('hx'),
      startVersion: await ts(),
      lockTtl: '3000',
    });
    assert.ok(p.regionError);
  });

  test('the store counts txn commands by command and outcome', async () => {
    // Summed over the stores: a leader change moves the count to another store.
    const count = async (command: string, outcome: string) => {
      let sum = 0;
      for (const name of c.storeNames())
        sum += await c.metric(
          name,
          `nyx_txn_commands_total{command="${command}",outcome="${outcome}"}`,
        );
      return sum;
    };
    assert.ok((await count('Prewrite', 'ok')) >= 3);
    assert.ok((await count('Prewrite', 'key_error:locked')) >= 1);
    assert.ok((await count('TxnBatchGet', 'ok')) >= 1);
  });
});

// PD's gRPC service against hostile callers (NyxDB issue 7, findings 5, 6 and 8; issue 6
// §4 item 3): a real PdServer on 127.0.0.1, driven by the real PdClient and by a raw gRPC
// client that sends what no well-behaved client would.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { PdClient, type RegionHeartbeatReply } from '../../src/client/pd_client.js';
import { PdError, PdErrorCode } from '../../src/pd/errors.js';
import { decomposeTs, MAX_LOGICAL } from '../../src/pd/timestamp.js';
import { DEFAULT_TSO_MAX_AHEAD_MS, MAX_TSO_COUNT } from '../../src/pd/tso.js';
import { loadNyxProto, type PDClient } from '../../src/proto/load.js';
import { tsFromProto } from '../../src/proto/convert_pd.js';
import type { TsoResponse__Output } from '../../src/proto-gen/nyx/pd/TsoResponse.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { PdServer, type PdServerOptions } from '../../src/server/pd_server.js';
import { tempDir } from './helpers.js';

const silent = pino({ level: 'silent' });

async function startPd(
  t: TestContext,
  opts: Partial<PdServerOptions> = {},
  dataDir = tempDir(t),
): Promise<PdServer> {
  const server = await PdServer.start({
    dataDir,
    addr: '127.0.0.1:0',
    statusAddr: '127.0.0.1:0',
    initialStores: 3,
    logger: silent,
    ...opts,
  });
  t.after(() => server.stop());
  return server;
}

function client(t: TestContext, addr: string): PdClient {
  const c = PdClient.connect(addr, { timeoutMs: 5000 });
  t.after(() => c.close());
  return c;
}

function rawClient(t: TestContext, addr: string): PDClient {
  const PD = loadNyxProto().nyx.pd.PD;
  const c = new PD(addr, grpc.credentials.createInsecure());
  t.after(() => c.close());
  return c;
}

async function rejectsWithCode(p: Promise<unknown>, code: PdErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof PdError && e.code === code);
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A bootstrapped cluster of stores 1-3 (tick 50 ms, 10 election ticks) with one Region. */
async function bootstrapped(
  t: TestContext,
  server: PdServer,
): Promise<{ pd: PdClient; region: Region }> {
  const pd = client(t, server.grpcAddress);
  for (const id of [1, 2, 3]) {
    await pd.putStore({
      id,
      address: `127.0.0.1:${20160 + id}`,
      raftTiming: { tickMs: 50, electionTicks: 10 },
    });
  }
  return { pd, region: (await pd.getRegion(Buffer.from('a')))!.region };
}

function replies(pd: PdClient): RegionHeartbeatReply[] {
  const got: RegionHeartbeatReply[] = [];
  pd.onRegionHeartbeatReply((r) => got.push(r));
  return got;
}

const errorCode = (r: RegionHeartbeatReply | undefined) =>
  r?.kind === 'error' ? r.error.code : r?.kind;

test('finding 5 over the wire: the forged heartbeat is refused and the map survives a restart', async (t) => {
  const dir = tempDir(t);
  const server = await startPd(t, {}, dir);
  const { pd, region } = await bootstrapped(t, server);
  const got = replies(pd);
  const leader = region.peers[0]!;
  const forged: Region = {
    id: await pd.allocId(),
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    epoch: { confVer: 1, version: Number.MAX_SAFE_INTEGER },
    peers: [leader],
  };
  pd.regionHeartbeat({ region: forged, leader }); // no term: 0 on the wire
  pd.regionHeartbeat({ region: forged, leader, term: 9 });
  pd.regionHeartbeat({
    region: { ...forged, epoch: { confVer: 1, version: 500 } },
    leader,
    term: 9,
  });
  await eventually(() => got.length === 3);
  assert.deepEqual(got.map(errorCode), [
    PdErrorCode.InvalidArgument,
    PdErrorCode.InvalidArgument,
    PdErrorCode.RegionInconsistent,
  ]);
  // Clients still find the real Region; a real leader still reports.
  pd.regionHeartbeat({ region, leader, term: 3 });
  await eventually(async () => (await pd.getRegion(Buffer.from('k')))?.leader?.id === leader.id);
  assert.deepEqual((await pd.getRegion(Buffer.from('k')))?.region, region);

  await server.stop();
  const again = await startPd(t, {}, dir);
  const fresh = client(t, again.grpcAddress);
  const map = await fresh.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
  assert.deepEqual(
    map.map((i) => i.region),
    [region],
  );
});

test('finding 6 over the wire: a heartbeat stream speaks for one store', async (t) => {
  const server = await startPd(t);
  const { pd, region } = await bootstrapped(t, server);
  const got = replies(pd);
  const [onStore1, onStore2] = region.peers;
  pd.regionHeartbeat({ region, leader: onStore1!, term: 2 });
  await eventually(async () => (await pd.getRegion(Buffer.from('k')))?.leader?.id === onStore1!.id);
  // The same stream now claims a leader on store 2, at a higher term: refused.
  pd.regionHeartbeat({ region, leader: onStore2!, term: 3 });
  await eventually(() => got.length === 1);
  assert.equal(errorCode(got[0]), PdErrorCode.PermissionDenied);
  assert.equal((await pd.getRegion(Buffer.from('k')))?.leader?.id, onStore1!.id);

  // Invented peers at the same epoch, from the right store: refused too.
  await pd.putStore({
    id: 4,
    address: '127.0.0.1:20164',
    raftTiming: { tickMs: 50, electionTicks: 10 },
  });
  const invented = {
    ...region,
    peers: [...region.peers, { id: await pd.allocId(), storeId: 4, role: PeerRole.Voter }],
  };
  pd.regionHeartbeat({ region: invented, leader: onStore1!, term: 2 });
  await eventually(() => got.length === 2);
  assert.equal(errorCode(got[1]), PdErrorCode.RegionInconsistent);
  assert.deepEqual((await pd.getRegion(Buffer.from('k')))?.region, region);

  // A header naming another sender binds the stream to that sender.
  const raw = rawClient(t, server.grpcAddress);
  const stream = raw.RegionHeartbeat();
  t.after(() => stream.cancel());
  stream.on('error', () => {});
  const rawReplies: string[] = [];
  stream.on('data', (r: { header?: { error?: { type: string } } }) =>
    rawReplies.push(r.header?.error?.type ?? 'none'),
  );
  const toWire = (r: Region) => ({
    id: String(r.id),
    startKey: r.startKey,
    endKey: r.endKey,
    regionEpoch: { confVer: String(r.epoch.confVer), version: String(r.epoch.version) },
    peers: r.peers.map((p) => ({ id: String(p.id), storeId: String(p.storeId), role: p.role })),
  });
  stream.write({
    header: { clusterId: '0', senderId: '3' },
    region: toWire(region),
    leader: { id: String(onStore1!.id), storeId: '1', role: 'Voter' },
    term: '4',
  });
  await eventually(() => rawReplies.length === 1);
  assert.deepEqual(rawReplies, ['PermissionDenied']);
});

test('finding 6 over the wire: a live store cannot be redirected; garbage records are refused', async (t) => {
  const server = await startPd(t);
  const { pd } = await bootstrapped(t, server);
  await pd.storeHeartbeat({ storeId: 2 });
  await rejectsWithCode(
    pd.putStore({ id: 2, address: '10.6.6.6:20162' }),
    PdErrorCode.PermissionDenied,
  );
  assert.equal((await pd.getStore(2))?.address, '127.0.0.1:20162');
  await rejectsWithCode(pd.putStore({ id: 9, address: 'garbage' }), PdErrorCode.InvalidArgument);
  const labels = Array.from({ length: 100_000 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
  await rejectsWithCode(
    pd.putStore({ id: 9, address: '127.0.0.1:20169', labels }),
    PdErrorCode.InvalidArgument,
  );
  assert.equal(await pd.getStore(9), undefined);
});

test('with an identity (as mTLS will provide), a caller speaks only for its own store', async (t) => {
  const server = await startPd(t, { initialStores: 1, identityOf: () => ({ storeId: 1 }) });
  const pd = client(t, server.grpcAddress);
  await rejectsWithCode(
    pd.putStore({ id: 2, address: '127.0.0.1:20162' }),
    PdErrorCode.PermissionDenied,
  );
  await pd.putStore({ id: 1, address: '127.0.0.1:20161' });
  await rejectsWithCode(pd.storeHeartbeat({ storeId: 2 }), PdErrorCode.PermissionDenied);
  await pd.storeHeartbeat({ storeId: 1 });
  // The store itself may move while alive.
  await pd.putStore({ id: 1, address: '127.0.0.1:20171' });
  assert.equal((await pd.getStore(1))?.address, '127.0.0.1:20171');
});

test('issue 6: a store whose Raft timing differs from the cluster’s is refused', async (t) => {
  const server = await startPd(t);
  const { pd } = await bootstrapped(t, server);
  await assert.rejects(
    pd.putStore({
      id: 4,
      address: '127.0.0.1:20164',
      raftTiming: { tickMs: 100, electionTicks: 10 },
    }),
    (e: unknown) =>
      e instanceof PdError &&
      e.code === PdErrorCode.ClusterConfigMismatch &&
      /--tick-ms 100 --election-ticks 10 but this cluster uses --tick-ms 50 --election-ticks 10/.test(
        e.message,
      ),
  );
  assert.equal(await pd.getStore(4), undefined);
  // Half a timing is a malformed request.
  const raw = rawClient(t, server.grpcAddress);
  const res = await new Promise<{ header: { error: { type: string } | null } | null }>(
    (resolve, reject) =>
      raw.PutStore(
        {
          header: { clusterId: '0' },
          store: { id: '4', address: '127.0.0.1:20164' },
          tickMs: 50,
          electionTicks: 0,
        },
        (err, r) => (err ? reject(err) : resolve(r as never)),
      ),
  );
  assert.equal(res.header?.error?.type, 'InvalidArgument');
  await pd.putStore({
    id: 4,
    address: '127.0.0.1:20164',
    raftTiming: { tickMs: 50, electionTicks: 10 },
  });
});

/** Sends n TSO requests of `count` on one raw stream; resolves with every answer. */
async function tsoFlood(raw: PDClient, n: number, count: number): Promise<TsoResponse__Output[]> {
  const stream = raw.Tso();
  const answers: TsoResponse__Output[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (r: TsoResponse__Output) => {
      answers.push(r);
      if (answers.length === n) resolve();
    });
    stream.on('error', reject);
  });
  for (let i = 0; i < n; i++) stream.write({ header: { clusterId: '0' }, count });
  await done;
  stream.end();
  return answers;
}

test('finding 8 over the wire: a TSO flood cannot push time ahead of the clock', async (t) => {
  // No per-stream budget here: this is about the global bound.
  const server = await startPd(t, { tsoStreamRate: Number.MAX_SAFE_INTEGER });
  const raw = rawClient(t, server.grpcAddress);
  // The flood of the finding (scaled down: tso_bounds.test.ts sends all 20,000 to the
  // allocator): every request is refused, nothing is drawn.
  const huge = await tsoFlood(raw, 2000, MAX_LOGICAL - 1);
  assert.ok(huge.every((a) => a.header?.error?.type === 'InvalidArgument'));

  // Maximal batches, pipelined as fast as one stream can: served or told to back off.
  const answers = await tsoFlood(raw, 2000, MAX_TSO_COUNT);
  const wall = Date.now();
  const types = new Set(answers.map((a) => a.header?.error?.type ?? 'ok'));
  for (const type of types) assert.ok(type === 'ok' || type === 'ServerIsBusy', type);
  const served = answers.filter((a) => !a.header?.error).map((a) => tsFromProto(a.timestamp!));
  for (let i = 1; i < served.length; i++) assert.ok(served[i]! > served[i - 1]!);
  const ahead = decomposeTs(served.at(-1)!).physical - wall;
  assert.ok(ahead <= DEFAULT_TSO_MAX_AHEAD_MS, `TSO ran ${ahead} ms ahead of the clock`);

  // Well-behaved clients are served afterwards.
  const pd = client(t, server.grpcAddress);
  const ts = await pd.getTimestamp();
  assert.ok(decomposeTs(ts).physical - Date.now() <= DEFAULT_TSO_MAX_AHEAD_MS);
});

test('finding 8 over the wire: one stream gets a bounded share per second', async (t) => {
  const server = await startPd(t, { tsoStreamRate: 50_000 });
  const raw = rawClient(t, server.grpcAddress);
  const greedy = await tsoFlood(raw, 10, 10_000);
  assert.deepEqual(
    greedy.map((a) => a.header?.error?.type ?? 'ok'),
    [
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ServerIsBusy',
      'ServerIsBusy',
      'ServerIsBusy',
      'ServerIsBusy',
      'ServerIsBusy',
    ],
  );
  // Another caller has its own budget.
  const pd = client(t, server.grpcAddress);
  assert.ok((await pd.getTimestamp()) > 0n);
});

// The PD service end to end: a real PdServer (gRPC + HTTP status, SQLite in a temp dir)
// on 127.0.0.1, driven through the real PdClient.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { PdClient, type RegionHeartbeatReply } from '../../src/client/pd_client.js';
import { PdUnavailableError } from '../../src/client/pd_errors.js';
import { PdError, PdErrorCode } from '../../src/pd/errors.js';
import { decomposeTs } from '../../src/pd/timestamp.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { PdServer, type PdServerOptions } from '../../src/server/pd_server.js';
import { freePort } from '../../src/common/free_port.js';
import { tempDir } from './helpers.js';

const silent = pino({ level: 'silent' });

async function startPd(
  t: TestContext,
  dataDir: string,
  opts: Partial<PdServerOptions> = {},
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

function client(t: TestContext, addr: string, opts = {}): PdClient {
  const c = PdClient.connect(addr, { timeoutMs: 5000, ...opts });
  t.after(() => c.close());
  return c;
}

async function putStores(pd: PdClient, n: number): Promise<void> {
  for (let id = 1; id <= n; id++) {
    await pd.putStore({ id, address: `127.0.0.1:${20160 + id}`, statusAddress: '' });
  }
}

/** Resolves once check() holds, polling; fails the test after timeoutMs. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejectsWithCode(p: Promise<unknown>, code: PdErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof PdError && e.code === code);
}

const hex = (b: Buffer) => b.toString('hex');

test('the third PutStore bootstraps the cluster with N even-split regions', async (t) => {
  const server = await startPd(t, tempDir(t), { initialLayout: { evenSplits: 4 } });
  const pd = client(t, server.grpcAddress);

  await rejectsWithCode(pd.getRegion(Buffer.from('a')), PdErrorCode.NotBootstrapped);
  assert.deepEqual(await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0)), []);
  await putStores(pd, 2);
  assert.equal(await pd.isBootstrapped(), false);
  await pd.putStore({ id: 3, address: '127.0.0.1:20163' });
  assert.equal(await pd.isBootstrapped(), true);
  assert.equal(await pd.getClusterId(), server.clusterId);

  const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
  assert.deepEqual(
    regions.map((r) => [hex(r.region.startKey), hex(r.region.endKey)]),
    [
      ['', '4000'],
      ['4000', '8000'],
      ['8000', 'c000'],
      ['c000', ''],
    ],
  );
  for (const { region, leader } of regions) {
    assert.deepEqual(region.epoch, { confVer: 1, version: 1 });
    assert.deepEqual(region.peers.map((p) => p.storeId).sort(), [1, 2, 3]);
    assert.equal(leader, undefined);
  }
  assert.equal((await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 2)).length, 2);

  // The explicit rpc is still there for tools, and refuses a second bootstrap.
  await rejectsWithCode(pd.bootstrap({ evenSplits: 2 }), PdErrorCode.AlreadyBootstrapped);

  const stores = await pd.getAllStores();
  assert.deepEqual(
    stores.map((s) => [s.id, s.address, s.state]),
    [
      [1, '127.0.0.1:20161', 'Up'],
      [2, '127.0.0.1:20162', 'Up'],
      [3, '127.0.0.1:20163', 'Up'],
    ],
  );
  await pd.storeHeartbeat({ storeId: 2, capacity: 1000, available: 600, regionCount: 4 });
  const info = await pd.getStoreInfo(2);
  assert.equal(info?.store.address, '127.0.0.1:20162');
  assert.equal(info?.stats?.capacity, 1000);
  assert.equal(info?.stats?.regionCount, 4);
  assert.equal(await pd.getStore(99), undefined);
  await rejectsWithCode(pd.storeHeartbeat({ storeId: 99 }), PdErrorCode.StoreNotFound);
  const a = await pd.allocId();
  assert.ok((await pd.allocId()) > a);

  const status = (await (await fetch(`http://${server.statusAddress}/status`)).json()) as {
    bootstrapped: boolean;
    regionCount: number;
    stores: { id: number; lastHeartbeat: string | null; regionCount: number }[];
  };
  assert.equal(status.bootstrapped, true);
  assert.equal(status.regionCount, 4);
  assert.equal(status.stores.length, 3);
  assert.ok(status.stores[1]!.lastHeartbeat);
  assert.equal(status.stores[0]!.lastHeartbeat, null);
});

test('GetRegion finds the right region at and around the boundaries', async (t) => {
  const server = await startPd(t, tempDir(t), { initialLayout: { evenSplits: 4 } });
  const pd = client(t, server.grpcAddress);
  await putStores(pd, 3);
  const all = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
  const idOf = async (key: string) => (await pd.getRegion(Buffer.from(key, 'hex')))?.region.id;
  const ids = all.map((r) => r.region.id);

  assert.equal(await idOf(''), ids[0]);
  assert.equal(await idOf('3fff'), ids[0]);
  assert.equal(await idOf('3fffffffff'), ids[0]);
  assert.equal(await idOf('40'), ids[0]); // [0x40] sorts before [0x40, 0x00]
  assert.equal(await idOf('4000'), ids[1]);
  assert.equal(await idOf('400000'), ids[1]);
  assert.equal(await idOf('bfff'), ids[2]);
  assert.equal(await idOf('c000'), ids[3]);
  assert.equal(await idOf('ffffffff'), ids[3]);

  const byId = await pd.getRegionById(ids[2]!);
  assert.equal(hex(byId!.region.startKey), '8000');
  assert.equal(await pd.getRegionById(999_999), undefined);

  const mid = await pd.scanRegions(Buffer.from('5000', 'hex'), Buffer.from('9000', 'hex'));
  assert.deepEqual(
    mid.map((r) => r.region.id),
    [ids[1], ids[2]],
  );
});

test('region heartbeats set the leader; stale ones are refused with a typed error', async (t) => {
  const server = await startPd(t, tempDir(t), { initialLayout: { splitKeys: [Buffer.from('m')] } });
  const pd = client(t, server.grpcAddress);
  await putStores(pd, 3);
  const region: Region = (await pd.getRegion(Buffer.from('a')))!.region;
  const replies: RegionHeartbeatReply[] = [];
  pd.onRegionHeartbeatReply((r) => replies.push(r));

  const leader = region.peers.find((p) => p.storeId === 2)!;
  pd.regionHeartbeat({ region, leader, term: 5, stats: { approximateSize: 10 } });
  await eventually(async () => (await pd.getRegion(Buffer.from('a')))?.leader?.id === leader.id);
  assert.deepEqual((await pd.getRegionById(region.id))?.leader, leader);

  // A split reported by the leader reaches the map.
  const left: Region = {
    ...region,
    endKey: Buffer.from('g'),
    epoch: { ...region.epoch, version: 2 },
  };
  pd.regionHeartbeat({ region: left, leader, term: 5 });
  await eventually(
    async () => (await pd.getRegionById(region.id))?.region.endKey.toString() === 'g',
  );

  // The old epoch, after the split: stale.
  pd.regionHeartbeat({ region, leader, term: 6 });
  await eventually(async () => replies.length > 0);
  const reply = replies[0]!;
  assert.equal(reply.kind, 'error');
  assert.ok(reply.kind === 'error');
  assert.equal(reply.regionId, region.id);
  assert.equal(reply.error.code, PdErrorCode.StaleRegion);
  assert.ok(reply.error instanceof PdError);

  // A deposed leader's report from an older term: stale too. It comes from its own store,
  // so over its own client (a heartbeat stream speaks for one store).
  const store3 = client(t, server.grpcAddress);
  const store3Replies: RegionHeartbeatReply[] = [];
  store3.onRegionHeartbeatReply((r) => store3Replies.push(r));
  const other = region.peers.find((p) => p.storeId === 3)!;
  store3.regionHeartbeat({ region: left, leader: other, term: 4 });
  await eventually(async () => store3Replies.length > 0);
  assert.equal(
    store3Replies[0]!.kind === 'error' && store3Replies[0]!.error.code,
    PdErrorCode.StaleRegion,
  );
  assert.equal((await pd.getRegionById(region.id))?.leader?.id, leader.id);
});

test('GetRegion answers with the down and pending peers its leader last reported', async (t) => {
  const server = await startPd(t, tempDir(t));
  const pd = client(t, server.grpcAddress);
  await putStores(pd, 3);
  const region: Region = (await pd.getRegion(Buffer.from('a')))!.region;
  const [leader, silent, lagging] = region.peers;
  pd.regionHeartbeat({
    region,
    leader: leader!,
    term: 2,
    stats: { downPeers: [{ peer: silent!, downSeconds: 42 }], pendingPeers: [lagging!] },
  });
  await eventually(async () => (await pd.getRegionById(region.id))?.downPeers !== undefined);
  const byId = (await pd.getRegionById(region.id))!;
  assert.deepEqual(byId.downPeers, [{ peer: silent, downSeconds: 42 }]);
  assert.deepEqual(byId.pendingPeers, [lagging]);
  assert.deepEqual((await pd.getRegion(Buffer.from('a')))!.downPeers, byId.downPeers);

  // The next report lists none: they are gone from the answer (absent, not stale).
  pd.regionHeartbeat({ region, leader: leader!, term: 2 });
  await eventually(async () => (await pd.getRegionById(region.id))?.downPeers === undefined);
  assert.equal((await pd.getRegionById(region.id))!.pendingPeers, undefined);
});

test('a client of another cluster gets ClusterIdMismatch', async (t) => {
  const server = await startPd(t, tempDir(t));
  const stranger = client(t, server.grpcAddress, { clusterId: server.clusterId + 1 });
  await rejectsWithCode(stranger.allocId(), PdErrorCode.ClusterIdMismatch);
  await rejectsWithCode(stranger.getTimestamp(), PdErrorCode.ClusterIdMismatch);
  const friend = client(t, server.grpcAddress, { clusterId: server.clusterId });
  assert.ok((await friend.allocId()) > 0);
});

test('TSO: concurrent callers are batched and strictly increasing, across a PD restart', async (t) => {
  const dir = tempDir(t);
  const first = await startPd(t, dir);
  const addr = first.grpcAddress;
  const pd = client(t, addr);

  const seen: bigint[] = [];
  for (let round = 0; round < 5; round++) {
    const batch = await Promise.all(Array.from({ length: 1000 }, () => pd.getTimestamp()));
    seen.push(...batch);
  }
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i]! > seen[i - 1]!, `ts ${i} = ${seen[i]} is not above ${seen[i - 1]}`);
  }
  const { physical } = decomposeTs(seen.at(-1)!);
  assert.ok(Math.abs(physical - Date.now()) < 60_000);
  // Concurrent callers shared requests: far fewer requests than timestamps.
  const metrics = await (await fetch(`http://${first.statusAddress}/metrics`)).text();
  const requests = Number(/^nyx_pd_tso_requests_total (\d+)/m.exec(metrics)![1]);
  assert.ok(requests <= 50, `${requests} TSO requests for 5000 timestamps`);
  assert.match(metrics, /^nyx_pd_tso_timestamps_total 5000$/m);

  const before = seen.at(-1)!;
  await first.stop();
  const probe = PdClient.connect(addr, { timeoutMs: 300 });
  await assert.rejects(probe.getTimestamp(), PdUnavailableError);
  probe.close();

  // Same data dir, same port: the same client carries on, strictly above.
  const second = await startPd(t, dir, { addr });
  assert.equal(second.clusterId, first.clusterId);
  const after = await Promise.all(Array.from({ length: 100 }, () => pd.getTimestamp()));
  assert.ok(after[0]! > before, `${after[0]} after restart is not above ${before}`);
  for (let i = 1; i < after.length; i++) assert.ok(after[i]! > after[i - 1]!);
  const fresh = client(t, addr);
  assert.ok((await fresh.getTimestamp()) > after.at(-1)!);
});

test('garbage on the gRPC port and malformed messages do not crash PD', async (t) => {
  const server = await startPd(t, tempDir(t));
  const port = Number(server.grpcAddress.split(':')[1]);

  const sendRaw = (bytes: Buffer) =>
    new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
      s.on('data', () => {});
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
  await sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await sendRaw(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  // A valid HTTP/2 preface followed by a nonsense frame.
  await sendRaw(
    Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      Buffer.from([0, 0, 4, 0xee, 0xff, 0, 0, 0, 1, 1, 2, 3, 4]),
    ]),
  );

  // A well-framed gRPC call whose payload is not a protobuf message.
  const raw = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
  t.after(() => raw.close());
  const status = await new Promise<grpc.ServiceError | null>((resolve) =>
    raw.makeUnaryRequest(
      '/nyx.pd.PD/AllocID',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
      (err) => resolve(err),
    ),
  );
  assert.ok(status, 'a malformed request fails');
  assert.notEqual(status.code, grpc.status.OK);

  const pd = client(t, server.grpcAddress);
  assert.ok((await pd.allocId()) > 0);
  assert.ok((await pd.getTimestamp()) > 0n);
  const health = await fetch(`http://${server.statusAddress}/health`);
  assert.equal(health.status, 200);
});

test('an unreachable PD fails fast with PdUnavailableError', async (t) => {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const pd = client(t, addr, { timeoutMs: 400, rpcTimeoutMs: 200 });
  const start = Date.now();
  await assert.rejects(pd.allocId(), (e: unknown) => {
    assert.ok(e instanceof PdUnavailableError);
    assert.equal(e.address, addr);
    assert.equal(e.message, `cannot reach PD at ${addr} (connection refused)`);
    return true;
  });
  await assert.rejects(pd.getTimestamp(), PdUnavailableError);
  await assert.rejects(pd.getRegion(Buffer.from('k')), PdUnavailableError);
  assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms`);
  pd.regionHeartbeat({
    region: {
      id: 1,
      startKey: Buffer.alloc(0),
      endKey: Buffer.alloc(0),
      epoch: { confVer: 1, version: 1 },
      peers: [{ id: 2, storeId: 1, role: PeerRole.Voter }],
    },
    leader: { id: 2, storeId: 1, role: PeerRole.Voter },
  }); // fire-and-forget: no throw, no unhandled error
});

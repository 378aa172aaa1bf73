// RawKV on a real cluster (PD + 3 stores, 4 Regions): through the CLI and through the SDK,
// across Region boundaries; then a PD restart; then bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto } from '../../src/proto/load.js';
import { TestCluster, eventually } from './cluster.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/run.js');

async function nyx(
  c: TestCluster,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args, '--pd', c.pd]);
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe('RawKV on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ regions: 4 });
  });
  after(async () => {
    await c.stop();
  });

  test('the CLI puts, gets, scans and deletes across Region boundaries', async () => {
    // The playground's split keys for 4 Regions are B, U and h: these keys hit all four.
    const keys = ['0zero', 'Apple', 'Banana', 'Tea', 'Umbrella', 'grape', 'hello', 'zebra'];
    for (const k of keys)
      assert.equal((await nyx(c, 'kv', 'put', k, `v-${k}`)).stdout.trim(), 'OK');
    assert.equal((await nyx(c, 'kv', 'get', 'hello')).stdout.trim(), 'v-hello');
    const missing = await nyx(c, 'kv', 'get', 'nothing-here');
    assert.equal(missing.code, 0, 'a missing key is not an error');
    assert.equal(missing.stdout.trim(), '(not found)');
    const scan = JSON.parse((await nyx(c, 'kv', 'scan', '--json')).stdout) as {
      key: string;
      value: string;
    }[];
    assert.deepEqual(
      scan.map((p) => p.key),
      [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    const rev = JSON.parse(
      (await nyx(c, 'kv', 'scan', 'A', 'h', '--reverse', '--limit', '3', '--json')).stdout,
    ) as {
      key: string;
    }[];
    assert.deepEqual(
      rev.map((p) => p.key),
      ['grape', 'Umbrella', 'Tea'],
    );
    assert.equal((await nyx(c, 'kv', 'delete', 'Tea')).stdout.trim(), 'OK');
    assert.equal((await nyx(c, 'kv', 'get', 'Tea')).stdout.trim(), '(not found)');
    const regions = JSON.parse((await nyx(c, 'region', 'list', '--json')).stdout) as {
      id: number;
    }[];
    assert.equal(regions.length, 4);
    const stores = JSON.parse((await nyx(c, 'store', 'list', '--json')).stdout) as {
      state: string;
    }[];
    assert.deepEqual(
      stores.map((s) => s.state),
      ['Up', 'Up', 'Up'],
    );
  });

  test('the SDK reads and writes across Region boundaries, with batches, scans and CAS', async () => {
    const client = c.rawClient();
    const pairs = Array.from({ length: 300 }, (_, i) => {
      const k = `${String.fromCharCode(0x30 + (i % 75))}sdk${i}`;
      return { key: Buffer.from(k), value: Buffer.from(`value-${i}`) };
    });
    await client.batchPut(pairs);
    const got = await client.batchGet(pairs.map((p) => p.key.toString()));
    for (const p of pairs) assert.deepEqual(got.get(p.key.toString()), p.value);
    const all = await client.scan(Buffer.from('0'), Buffer.from('{'), { limit: 1000 });
    const sdkKeys = all.filter((p) => p.key.includes('sdk')).map((p) => p.key.toString());
    assert.equal(sdkKeys.length, 300);
    assert.deepEqual(
      sdkKeys,
      [...sdkKeys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    const first = await client.compareAndSwap('cas-key', null, 'one');
    assert.equal(first.succeeded, true);
    assert.equal(first.previous, undefined);
    const second = await client.compareAndSwap('cas-key', null, 'two');
    assert.equal(second.succeeded, false);
    assert.deepEqual(second.previous, Buffer.from('one'));
    await client.deleteRange('0', '{');
    assert.deepEqual(await client.scan('0', '{', { limit: 10 }), []);
  });

  test('after a PD restart timestamps keep increasing and the stores keep serving', async () => {
    const pd = c.pdClient();
    let last = 0n;
    for (let i = 0; i < 200; i++) {
      const ts = await pd.getTimestamp();
      assert.ok(ts > last);
      last = ts;
    }
    await c.pg.kill('pd');
    await c.pg.restart('pd');
    const after = c.pdClient();
    const next = await after.getTimestamp();
    assert.ok(next > last, `timestamp ${next} after the restart is not above ${last}`);
    // The old client reconnects by itself too.
    assert.ok((await pd.getTimestamp()) > next);
    const client = c.rawClient();
    await client.put('after-pd-restart', 'yes');
    assert.deepEqual(await client.get('after-pd-restart'), Buffer.from('yes'));
    // Stores heartbeat the restarted PD again.
    await eventually('store heartbeats after the PD restart', async () => {
      const stores = await after.getAllStores();
      return stores.every((s) => s.lastHeartbeatMs > Date.now() - 5_000);
    });
  });

  test('bad input gets typed errors and the servers keep serving', async () => {
    const pd = c.pdClient();
    const { nyx: proto } = loadNyxProto();
    const clients = new Map<string, grpc.Client>();
    const kvAt = (address: string) => {
      let kv = clients.get(address);
      if (!kv)
        clients.set(address, (kv = new proto.kv.Kv(address, grpc.credentials.createInsecure())));
      return kv as unknown as Record<
        string,
        (r: object, cb: (e: Error | null, r: unknown) => void) => void
      >;
    };
    type Ctx = {
      regionId: string;
      regionEpoch: { confVer: string; version: string };
      peer: { id: string; storeId: string };
    };
    type Resp = { error: string; regionError: { kind?: string } | null };
    // Each request goes to the Region's leader as PD knows it at that moment, and is asked
    // again if leadership moved on the way: the store checks leadership before anything
    // else in a request's context (as TiKV does), so an answer from a store that just lost
    // the lead says NotLeader, whatever the request's fault.
    const askLeader = <T extends Resp>(method: string, request: (ctx: Ctx) => object) =>
      eventually(`${method} answered by the leader`, async () => {
        const info = await pd.getRegion(Buffer.from('hello'));
        if (!info?.leader) return undefined;
        const store = await pd.getStore(info.leader.storeId);
        const ctx: Ctx = {
          regionId: String(info.region.id),
          regionEpoch: {
            confVer: String(info.region.epoch.confVer),
            version: String(info.region.epoch.version),
          },
          peer: { id: String(info.leader.id), storeId: String(info.leader.storeId) },
        };
        const resp = await new Promise<T>((resolve, reject) =>
          kvAt(store!.address)[method]!(request(ctx), (e, r) => (e ? reject(e) : resolve(r as T))),
        );
        return resp.regionError?.kind === 'notLeader'
          ? undefined
          : { resp, address: store!.address, ctx };
      });

    const noEpoch = await askLeader('RawPut', (ctx) => ({
      context: { ...ctx, regionEpoch: null },
      key: Buffer.from('hello'),
      value: Buffer.from('x'),
    }));
    assert.match(noEpoch.resp.error, /no region epoch/);
    const empty = await askLeader('RawPut', (ctx) => ({
      context: ctx,
      key: Buffer.alloc(0),
      value: Buffer.from('x'),
    }));
    assert.match(empty.resp.error, /key must not be empty/);
    const big = await askLeader('RawPut', (ctx) => ({
      context: ctx,
      key: Buffer.from('hello'),
      value: Buffer.alloc(9 << 20),
    }));
    assert.match(big.resp.error, /exceeds the limit/);
    // The documented limit itself is accepted: an 8 MiB value fits one Raft entry.
    const sdk = c.rawClient();
    await sdk.put('hello-8mib', Buffer.alloc(8 << 20, 7));
    assert.equal((await sdk.get('hello-8mib'))?.length, 8 << 20);
    const unknown = await askLeader('RawGet', (ctx) => ({
      context: { ...ctx, regionId: '999999' },
      key: Buffer.from('hello'),
    }));
    assert.equal(unknown.resp.regionError?.kind, 'regionNotFound');
    const stale = await askLeader('RawGet', (ctx) => ({
      context: { ...ctx, regionEpoch: { confVer: '1', version: '0' } },
      key: Buffer.from('hello'),
    }));
    assert.equal(stale.resp.regionError?.kind, 'epochNotMatch');
    const outside = await askLeader('RawGet', (ctx) => ({ context: ctx, key: Buffer.from('0') }));
    assert.equal(outside.resp.regionError?.kind, 'keyNotInRegion');

    // Garbage bytes on the gRPC port: the connection dies, the server does not.
    const [host, port] = outside.address.split(':');
    await new Promise<void>((resolve) => {
      const sock = net.connect(Number(port), host, () => {
        sock.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\xff\x13garbage'.repeat(50)));
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 200);
      });
      sock.on('error', () => resolve());
    });
    const ok = await askLeader('RawGet', (ctx) => ({ context: ctx, key: Buffer.from('hello') }));
    assert.equal(ok.resp.regionError, null);
    for (const kv of clients.values()) kv.close();
    const client = c.rawClient();
    await client.put('still', 'serving');
    assert.deepEqual(await client.get('still'), Buffer.from('serving'));
  });
});

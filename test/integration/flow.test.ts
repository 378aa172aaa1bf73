// Finding 7 of the trust review on real processes: a client that keeps sending on a
// BatchCommands stream but never reads the answers must not grow a store without bound,
// starve /health, other clients or SIGTERM; a scan answer is bounded by bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto, type KvClient } from '../../src/proto/load.js';
import type { BatchCommandsRequest } from '../../src/proto-gen/nyx/kv/BatchCommandsRequest.js';
import type { Context } from '../../src/proto-gen/nyx/kv/Context.js';
import type { RawScanResponse__Output } from '../../src/proto-gen/nyx/kv/RawScanResponse.js';
import { TestCluster } from './cluster.js';

/**
 * A BatchCommands client at the HTTP/2 level that sends and never reads: its stream stays
 * paused, so it grants the store no flow-control window beyond the initial one (a grpc-js
 * client would read answers into its own memory even with no listener).
 */
class UnreadingClient {
  private readonly session: http2.ClientHttp2Session;
  private readonly stream: http2.ClientHttp2Stream;
  private readonly serialize: (m: BatchCommandsRequest) => Buffer;

  constructor(address: string) {
    const { nyx } = loadNyxProto();
    this.serialize = nyx.kv.Kv.service.BatchCommands.requestSerialize;
    this.session = http2.connect(`http://${address}`);
    this.session.on('error', () => undefined);
    this.stream = this.session.request({
      ':method': 'POST',
      ':path': '/nyx.kv.Kv/BatchCommands',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    this.stream.on('error', () => undefined);
    this.stream.pause();
  }

  /** One length-prefixed gRPC message; whatever the transport cannot take waits here. */
  send(m: BatchCommandsRequest): void {
    const body = this.serialize(m);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length, 1);
    this.stream.write(Buffer.concat([head, body]));
  }

  close(): void {
    this.stream.destroy();
    this.session.destroy();
  }
}

/** Resident memory of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

const VALUE_BYTES = 256 << 10;
/** 20 waves of 256 gets of a 256 KiB value: 1.25 GiB of answers if nothing held them back. */
const WAVES = 20;
const PER_WAVE = 256;
/** How much the store may grow while the client does not read. */
const MAX_GROWTH_BYTES = 200 << 20;

describe('a client that never reads its BatchCommands answers', () => {
  let c: TestCluster;
  let ctx: Context;
  let kv: KvClient;

  before(async () => {
    c = await TestCluster.start({ stores: 1, regions: 1 });
    const client = c.rawClient();
    await client.put('big', Buffer.alloc(VALUE_BYTES, 7));
    const info = (await c.pdClient().getRegion(Buffer.from('big')))!;
    const peer = info.region.peers[0]!;
    ctx = {
      regionId: String(info.region.id),
      regionEpoch: {
        confVer: String(info.region.epoch.confVer),
        version: String(info.region.epoch.version),
      },
      peer: { id: String(peer.id), storeId: String(peer.storeId) },
    };
    const { nyx } = loadNyxProto();
    kv = new nyx.kv.Kv(c.pg.process('store1').grpc, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 << 20,
    });
  });
  after(async () => {
    kv?.close();
    await c?.stop();
  });

  test('scan answers are capped by bytes and the SDK continues after the cap', async () => {
    const client = c.rawClient();
    const mib = Buffer.alloc(1 << 20, 1);
    for (let i = 0; i < 6; i++) await client.put(`scan/${i}`, mib);
    const resp = await new Promise<RawScanResponse__Output>((resolve, reject) =>
      kv.RawScan(
        { context: ctx, startKey: Buffer.from('scan/'), endKey: Buffer.from('scan0'), limit: 100 },
        (err, r) => (err ? reject(err) : resolve(r!)),
      ),
    );
    assert.equal(resp.error, '');
    // 4 MiB cap: the fourth 1 MiB pair reaches it.
    assert.equal(resp.kvs.length, 4);
    assert.equal(resp.more, true);
    const all = await client.scan('scan/', 'scan0', { limit: 100 });
    assert.deepEqual(
      all.map((p) => p.key.toString()),
      [0, 1, 2, 3, 4, 5].map((i) => `scan/${i}`),
    );
    const reverse = await client.scan('scan/', 'scan0', { limit: 100, reverse: true });
    assert.equal(reverse.length, 6);
  });

  test('the store stays bounded, answers /health and other clients, and stops on SIGTERM', async () => {
    const store = c.pg.process('store1');
    const pid = store.child.pid!;
    const base = rssBytes(pid);
    const unread = new UnreadingClient(store.grpc);
    let id = 0;
    let peak = base;
    for (let w = 0; w < WAVES; w++) {
      const msg: BatchCommandsRequest = { requests: [] };
      for (let i = 0; i < PER_WAVE; i++)
        msg.requests!.push({
          requestId: String(++id),
          rawGet: { context: ctx, key: Buffer.from('big') },
        });
      unread.send(msg);
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rssBytes(pid));
      // Stop feeding a store that is clearly unbounded (it would take the machine down).
      if (peak - base > 2 * MAX_GROWTH_BYTES) break;
    }
    await new Promise((r) => setTimeout(r, 1000));
    peak = Math.max(peak, rssBytes(pid));
    assert.ok(
      peak - base < MAX_GROWTH_BYTES,
      `store grew by ${((peak - base) / 2 ** 20).toFixed(0)} MiB (from ${(base / 2 ** 20).toFixed(0)} MiB)`,
    );

    // /health answers promptly.
    const t0 = Date.now();
    const health = await fetch(`http://${store.status}/health`, {
      signal: AbortSignal.timeout(2000),
    });
    assert.equal(health.status, 200);
    assert.ok(Date.now() - t0 < 2000);

    // Another client (its own connection) is served.
    const other = c.rawClient();
    await other.put('other', 'v');
    assert.equal((await other.get('other'))?.toString(), 'v');
    assert.equal((await other.get('big'))?.length, VALUE_BYTES);

    // SIGTERM still stops the store, in well under the playground's 10 s grace.
    const exited = new Promise<number>((resolve) => {
      const t = Date.now();
      store.child.once('exit', () => resolve(Date.now() - t));
    });
    store.child.kill('SIGTERM');
    const ms = await exited;
    assert.ok(ms < 5000, `store took ${ms} ms to stop`);
    assert.equal(store.child.signalCode, null, 'exited by itself, not killed');
    unread.close();
  });
});

// Mutual TLS on real processes: a cluster under TLS serves kv; a client without a
// certificate, or with one from another CA, is refused on every port; a store's identity
// is its certificate (another store's certificate cannot register or send Raft messages
// as it); certificates are reloaded when their files change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createRawClient } from '../../src/client/create_client.js';
import { PdClient } from '../../src/client/pd_client.js';
import { TlsFiles } from '../../src/common/tls.js';
import { TestCa } from '../../src/server/tls_certs.js';
import { FakePeer, wireMessage } from './fake_peer.js';
import { TestCluster } from './cluster.js';
import type { ClusterSnapshot } from '../../src/ui/snapshot.js';

const run = promisify(execFile);

/** GET over HTTPS with these client files (or none); resolves with the status code or the error. */
function httpsGet(
  url: string,
  files?: { ca: string; cert?: string; key?: string },
): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      {
        ...(files?.ca ? { ca: fs.readFileSync(files.ca) } : {}),
        ...(files?.cert ? { cert: fs.readFileSync(files.cert) } : {}),
        ...(files?.key ? { key: fs.readFileSync(files.key) } : {}),
        rejectUnauthorized: files !== undefined,
        timeout: 3000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (e) => resolve(e));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('mutual TLS', () => {
  let c: TestCluster;
  let other: string;

  before(async () => {
    c = await TestCluster.start({ stores: 3, regions: 2, tls: true });
    other = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-other-ca-'));
  });
  after(async () => {
    await c?.stop();
    if (other) fs.rmSync(other, { recursive: true, force: true });
  });

  test('a cluster under TLS serves kv to a client with a certificate of its CA', async () => {
    const client = c.rawClient();
    await client.put('a', '1');
    await client.put('z', '2');
    assert.equal((await client.get('a'))?.toString(), '1');
    assert.deepEqual(
      (await client.scan('', '')).map((p) => p.key.toString()),
      ['a', 'z'],
    );
    // Status pages answer over HTTPS to the same client certificate.
    const certs = c.pg.certs!;
    for (const p of c.pg.processes) {
      assert.equal(
        await httpsGet(`https://${p.status}/health`, { ca: certs.ca, ...certs.client }),
        200,
      );
    }
  });

  test('nyx top reads the HTTPS status pages with the client certificate', async () => {
    const certs = c.pg.certs!;
    const { stdout } = await run(
      process.execPath,
      [
        path.resolve('bin/run.js'),
        'top',
        '--json',
        '--interval',
        '300',
        '--pd',
        c.pd,
        '--ca',
        certs.ca,
        '--cert',
        certs.client.cert,
        '--key',
        certs.client.key,
      ],
      { timeout: 30_000 },
    );
    const snap = JSON.parse(stdout) as ClusterSnapshot;
    assert.equal(snap.pd.reachable, true);
    assert.equal(snap.stores.length, 3);
    assert.ok(
      snap.stores.every((s) => s.reachable),
      JSON.stringify(snap.stores.map((s) => s.error)),
    );
  });

  test('a client without a certificate, or with one of another CA, is refused', async () => {
    const certs = c.pg.certs!;
    // Plaintext gRPC to a TLS port.
    const plain = createRawClient({ pd: c.pd, timeoutMs: 1500 });
    await assert.rejects(plain.get('a'));
    plain.close();
    // TLS with the right CA but no client certificate.
    const noCert = PdClient.connect(c.pd, {
      timeoutMs: 1500,
      credentials: grpc.credentials.createSsl(fs.readFileSync(certs.ca)),
    });
    await assert.rejects(noCert.getClusterId());
    noCert.close();
    // A certificate from another CA (trusting ours, so only its own certificate is wrong).
    const foreign = await TestCa.create('another CA');
    const mine = await foreign.issue('client', other);
    const wrongCa = createRawClient({
      pd: c.pd,
      timeoutMs: 1500,
      tls: { ca: certs.ca, ...mine },
    });
    await assert.rejects(wrongCa.get('a'));
    wrongCa.close();
    // Status ports likewise.
    const status = c.pg.process('store1').status;
    assert.ok((await httpsGet(`https://${status}/health`, { ca: certs.ca })) instanceof Error);
    assert.ok(
      (await httpsGet(`https://${status}/health`, { ca: certs.ca, ...mine })) instanceof Error,
    );
  });

  test('a store cannot register, heartbeat or send Raft messages as another store', async () => {
    const certs = c.pg.certs!;
    const tls2 = new TlsFiles({ ca: certs.ca, ...certs.stores[1]! });
    const pd = PdClient.connect(c.pd, { timeoutMs: 2000, credentials: tls2.channelCredentials() });
    try {
      // Store 2's certificate may not change store 1's record.
      await assert.rejects(
        pd.putStore({ id: 1, address: '127.0.0.1:1' }),
        /may not register or change store 1/,
      );
      await assert.rejects(pd.storeHeartbeat({ storeId: 1 }), /may not heartbeat for store 1/);
      // Store 1 still has its address.
      const s1 = await pd.getStore(1);
      assert.notEqual(s1?.address, '127.0.0.1:1');

      // Raft: a message naming store 1's peer, sent with store 2's certificate, is dropped.
      const region = (await pd.getRegion(Buffer.from('a')))!;
      const p1 = region.region.peers.find((p) => p.storeId === 1)!;
      const target = region.region.peers.find((p) => p.storeId === 3)!;
      const targetName = await c.nameOfStore(3);
      const before = await storeDrops(c, targetName);
      const fake = new FakePeer(c.pg.process(targetName).grpc, tls2.channelCredentials());
      await fake.send(
        wireMessage(
          { regionId: region.region.id, from: p1, to: target, epoch: region.region.epoch },
          { type: 'MsgHeartbeat', term: 1_000_000 },
        ),
      );
      // A snapshot stream naming store 1's peer, with store 2's certificate, is refused.
      const snap = fake.snapshot(
        wireMessage(
          { regionId: region.region.id, from: p1, to: target, epoch: region.region.epoch },
          { type: 'MsgSnap', term: 1 },
        ),
        [],
      );
      const refused = await snap.done;
      assert.equal(refused?.code, grpc.status.PERMISSION_DENIED, String(refused?.message));
      assert.match(refused!.message, /certificate of store 2/);
      fake.close();
      const deadline = Date.now() + 3000;
      while ((await storeDrops(c, targetName)) <= before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.ok((await storeDrops(c, targetName)) > before, 'the forged message was dropped');
      // The cluster keeps serving with its old term (the forged one was not stepped).
      const client = c.rawClient();
      await client.put('after', 'x');
      assert.equal((await client.get('after'))?.toString(), 'x');
    } finally {
      pd.close();
      tls2.close();
    }
  });

  test('certificates are reloaded when their files change', async () => {
    const certs = c.pg.certs!;
    // A client certificate of a new CA is refused...
    const next = await TestCa.create('next CA');
    const nextClient = await next.issue('client', other, 'next-client');
    const tryNext = async () => {
      const cl = createRawClient({
        pd: c.pd,
        timeoutMs: 1500,
        tls: { ca: certs.ca, ...nextClient },
      });
      try {
        return await cl.get('a');
      } finally {
        cl.close();
      }
    };
    await assert.rejects(tryNext());
    // ...until PD and the stores trust both CAs: rewrite the CA file they watch.
    const oldCa = fs.readFileSync(certs.ca, 'utf8');
    fs.writeFileSync(certs.ca, oldCa + next.cert.toString('pem') + '\n');
    const deadline = Date.now() + 10_000;
    let got: Buffer | undefined;
    for (;;) {
      try {
        got = await tryNext();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    assert.equal(got?.toString(), '1');
    // Connections made with the old files keep working.
    const client = c.rawClient();
    assert.equal((await client.get('a'))?.toString(), '1');
  });
});

async function storeDrops(c: TestCluster, name: string): Promise<number> {
  const text = await c.statusPage(name, '/metrics');
  return text
    .split('\n')
    .filter((l) => l.startsWith('nyx_raft_messages_dropped_total{'))
    .reduce((n, l) => n + Number(l.split(' ')[1]), 0);
}

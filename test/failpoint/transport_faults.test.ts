// Transport faults through failpoints: drop and delay per destination store, on the real
// gRPC transport talking to a real RaftTransport server.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clearFailpoints, removeFailpoint, setFailpoint } from '../../src/common/failpoint.js';
import { loadNyxProto } from '../../src/proto/load.js';
import { Message, MessageType } from '../../src/raft/index.js';
import { PeerRole } from '../../src/region/meta.js';
import { SnapshotInbox } from '../../src/store/snap_transfer.js';
import { raftTransportHandlers } from '../../src/server/raft_service.js';
import { RaftEnvelope } from '../../src/store/raft_store.js';
import { GrpcRaftTransport } from '../../src/store/transport.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function heartbeat(to: number, commit: number): RaftEnvelope {
  const message: Message = {
    type: MessageType.Heartbeat,
    to,
    from: 1,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit,
    reject: false,
    rejectHint: 0,
  };
  return {
    regionId: 7,
    fromPeer: { id: 1, storeId: 1, role: PeerRole.Voter },
    toPeer: { id: to, storeId: to, role: PeerRole.Voter },
    epoch: { confVer: 1, version: 1 },
    message,
  };
}

function snapshot(to: number): RaftEnvelope {
  const env = heartbeat(to, 0);
  env.message = {
    ...env.message,
    type: MessageType.Snap,
    snapshot: {
      data: new Uint8Array([1]),
      metadata: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } },
    } as unknown as Message['snapshot'],
  };
  return env;
}

describe('transport faults', () => {
  let server: grpc.Server;
  let address: string;
  let snapDir: string;
  /** What store 2 (the server) received: the commit field numbers each message. */
  const received: number[] = [];
  const unreachable: number[] = [];
  const snapshotsSent: RaftEnvelope[] = [];
  const snapshotsFailed: RaftEnvelope[] = [];
  let transport: GrpcRaftTransport;

  before(async () => {
    snapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-tf-'));
    server = new grpc.Server();
    server.addService(
      loadNyxProto().nyx.raft.RaftTransport.service,
      raftTransportHandlers({
        deliver: (env) => {
          received.push(env.message.commit);
          return undefined;
        },
        dropped: (r) => assert.fail(`dropped: ${r.reason} ${r.detail}`),
        // Snapshots travel only as far as the sender's transport here: none is received.
        snapshots: new SnapshotInbox(snapDir, {
          check: () => ({ reason: 'snapshot-not-needed', detail: 'no snapshot expected' }),
          deliver: () => undefined,
          refused: () => undefined,
        }),
      }),
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    address = `127.0.0.1:${port}`;
    transport = new GrpcRaftTransport({
      resolve: async () => address,
      reportUnreachable: (_r, peer) => unreachable.push(peer),
      sendSnapshot: (env) => snapshotsSent.push(env),
      failSnapshot: (env) => snapshotsFailed.push(env),
    });
    // The first send only starts resolving the address: warm the link up.
    for (let i = 0; received.length === 0; i++) {
      assert.ok(i < 100, 'the link never came up');
      transport.send(heartbeat(2, 0));
      transport.flush();
      await sleep(20);
    }
    await sleep(100); // the rest of the warm-up messages
    received.length = 0;
    unreachable.length = 0;
  });

  afterEach(async () => {
    clearFailpoints();
    await sleep(50);
    received.length = 0;
    unreachable.length = 0;
    snapshotsSent.length = 0;
    snapshotsFailed.length = 0;
  });

  after(() => {
    transport.close();
    server.forceShutdown();
    fs.rmSync(snapDir, { recursive: true, force: true });
  });

  function sendBatch(from: number, n: number, to = 2): void {
    for (let i = 0; i < n; i++) transport.send(heartbeat(to, from + i));
    transport.flush();
  }

  async function settle(expect: number, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (received.length < expect && Date.now() < deadline) await sleep(10);
  }

  test('without faults every message arrives, in order', async () => {
    sendBatch(1, 10);
    await settle(10);
    assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('return on transport_drop_to_store_<id> loses every message to it, silently', async () => {
    setFailpoint('transport_drop_to_store_2', 'return');
    sendBatch(1, 20);
    await sleep(200);
    assert.deepEqual(received, []);
    assert.deepEqual(unreachable, [], 'a lossy network does not announce its losses');
    removeFailpoint('transport_drop_to_store_2');
    sendBatch(100, 3);
    await settle(3);
    assert.deepEqual(received, [100, 101, 102], 'healed');
  });

  test('a drop toward another store leaves this one alone', async () => {
    setFailpoint('transport_drop_to_store_3', 'return');
    sendBatch(1, 5);
    await settle(5);
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  });

  test('N%return drops about that fraction', async () => {
    setFailpoint('transport_drop_to_store_2', '50%return');
    sendBatch(1, 2000);
    await sleep(500);
    // Binomial(2000, 0.5): mean 1000, sd 22.
    assert.ok(received.length > 850 && received.length < 1150, `${received.length} of 2000`);
    assert.deepEqual(
      received,
      [...received].sort((a, b) => a - b),
      'what arrives keeps its order',
    );
  });

  test('sleep(ms) on transport_delay_to_store_<id> delays messages without blocking', async () => {
    setFailpoint('transport_delay_to_store_2', 'sleep(200)');
    const t0 = Date.now();
    sendBatch(1, 3);
    sendBatch(4, 3);
    assert.ok(Date.now() - t0 < 100, 'sending did not block');
    await sleep(100);
    assert.deepEqual(received, []);
    await settle(6);
    assert.ok(Date.now() - t0 >= 200);
    assert.deepEqual(received, [1, 2, 3, 4, 5, 6]);
  });

  test('pause on transport_delay_to_store_<id> holds messages until it changes', async () => {
    setFailpoint('transport_delay_to_store_2', 'pause');
    sendBatch(1, 4);
    await sleep(200);
    assert.deepEqual(received, []);
    removeFailpoint('transport_delay_to_store_2');
    await settle(4);
    assert.deepEqual(received, [1, 2, 3, 4]);
  });

  test('a dropped snapshot is reported failed, as a broken snapshot stream would be', async () => {
    setFailpoint('transport_drop_to_store_2', 'return');
    const env = snapshot(2);
    transport.send(env);
    assert.deepEqual(snapshotsFailed, [env]);
    assert.deepEqual(snapshotsSent, []);
    removeFailpoint('transport_drop_to_store_2');
    transport.send(env);
    assert.deepEqual(snapshotsSent, [env], 'healed: sent on the link');
  });

  test('a delayed snapshot is sent after the delay', async () => {
    setFailpoint('transport_delay_to_store_2', 'sleep(100)');
    const env = snapshot(2);
    transport.send(env);
    assert.deepEqual(snapshotsSent, []);
    await sleep(250);
    assert.deepEqual(snapshotsSent, [env]);
    assert.deepEqual(snapshotsFailed, []);
  });
});

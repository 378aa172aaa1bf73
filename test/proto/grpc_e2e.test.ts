// The whole stack on loopback: a real grpc-js server with the loaded service definition,
// called through a generated typed client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto, type KvHandlers, type RaftTransportHandlers } from '../../src/proto/load.js';
import { decodeMessage, encodeMessage } from '../../src/store/raft_codec.js';
import { EntryType, MessageType, newMessage, type Message } from '../../src/raft/index.js';
import type { RawGetResponse__Output } from '../../src/proto-gen/nyx/kv/RawGetResponse.js';
import type { Done__Output } from '../../src/proto-gen/nyx/raft/Done.js';

const { nyx } = loadNyxProto();

function notImplemented(): grpc.ServiceError {
  return Object.assign(new Error('not implemented'), {
    code: grpc.status.UNIMPLEMENTED,
    details: 'not implemented',
    metadata: new grpc.Metadata(),
  });
}

async function startServer(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

test('Kv.RawGet over real gRPC answers a typed RegionNotFound', async (t) => {
  const seen: string[] = [];
  const handlers: KvHandlers = {
    RawGet(call, callback) {
      seen.push(`${call.request.context?.regionId}:${call.request.key.toString()}`);
      callback(null, {
        regionError: {
          message: `region ${call.request.context?.regionId} not found`,
          regionNotFound: { regionId: call.request.context!.regionId },
        },
      });
    },
    RawBatchGet: (_call, cb) => cb(notImplemented()),
    RawPut: (_call, cb) => cb(notImplemented()),
    RawBatchPut: (_call, cb) => cb(notImplemented()),
    RawDelete: (_call, cb) => cb(notImplemented()),
    RawDeleteRange: (_call, cb) => cb(notImplemented()),
    RawScan: (_call, cb) => cb(notImplemented()),
    RawCompareAndSwap: (_call, cb) => cb(notImplemented()),
    TxnGet: (_call, cb) => cb(notImplemented()),
    TxnBatchGet: (_call, cb) => cb(notImplemented()),
    TxnScan: (_call, cb) => cb(notImplemented()),
    Prewrite: (_call, cb) => cb(notImplemented()),
    Commit: (_call, cb) => cb(notImplemented()),
    BatchRollback: (_call, cb) => cb(notImplemented()),
    CheckTxnStatus: (_call, cb) => cb(notImplemented()),
    CheckSecondaryLocks: (_call, cb) => cb(notImplemented()),
    ResolveLock: (_call, cb) => cb(notImplemented()),
    TxnHeartBeat: (_call, cb) => cb(notImplemented()),
    ScanLock: (_call, cb) => cb(notImplemented()),
    PessimisticLock: (_call, cb) => cb(notImplemented()),
    PessimisticRollback: (_call, cb) => cb(notImplemented()),
    BatchCommands: (call) => call.end(),
  };
  const server = new grpc.Server();
  server.addService(nyx.kv.Kv.service, handlers);
  const port = await startServer(server);
  const client = new nyx.kv.Kv(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => {
    client.close();
    server.forceShutdown();
  });

  const resp = await new Promise<RawGetResponse__Output>((resolve, reject) =>
    client.RawGet(
      { context: { regionId: '9007199254740993' }, key: Buffer.from('user:1') },
      (err, r) => (err ? reject(err) : resolve(r!)),
    ),
  );
  assert.deepEqual(seen, ['9007199254740993:user:1']);
  assert.equal(resp.regionError!.kind, 'regionNotFound');
  assert.deepEqual(resp.regionError!.regionNotFound, { regionId: '9007199254740993' });
  assert.equal(resp.regionError!.message, 'region 9007199254740993 not found');

  const unimplemented = await new Promise<grpc.ServiceError>((resolve) =>
    client.RawPut({}, (err) => resolve(err!)),
  );
  assert.equal(unimplemented.code, grpc.status.UNIMPLEMENTED);
});

test('RaftTransport.Raft streams batches of core messages end to end', async (t) => {
  const received: Message[] = [];
  const handlers: RaftTransportHandlers = {
    Raft(call, callback) {
      call.on('data', (batch) => {
        for (const rm of batch.msgs) received.push(decodeMessage(rm.message!));
      });
      call.on('end', () => callback(null, {}));
    },
    Snapshot: (call, callback) => call.on('end', () => callback(null, {})),
  };
  const server = new grpc.Server();
  server.addService(nyx.raft.RaftTransport.service, handlers);
  const port = await startServer(server);
  const client = new nyx.raft.RaftTransport(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => {
    client.close();
    server.forceShutdown();
  });

  const sent: Message[] = [];
  for (let i = 1; i <= 30; i++) {
    sent.push(
      newMessage({
        type: i % 3 === 0 ? MessageType.Heartbeat : MessageType.App,
        to: 2,
        from: 1,
        term: 5,
        index: i,
        entries: [{ term: 5, index: i + 1, type: EntryType.Normal, data: new Uint8Array([i]) }],
        ...(i % 3 === 0 ? { context: new Uint8Array([i, i]) } : {}),
      }),
    );
  }
  const done = new Promise<Done__Output>((resolve, reject) => {
    const stream = client.Raft((err, d) => (err ? reject(err) : resolve(d!)));
    for (let b = 0; b < 3; b++) {
      const msgs = sent.slice(b * 10, b * 10 + 10);
      stream.write({ msgs: msgs.map((m) => ({ regionId: 1, message: encodeMessage(m) })) });
    }
    stream.end();
  });
  assert.deepEqual(await done, {});
  assert.deepStrictEqual(received, sent);
});

// The inbound Raft stream over real gRPC: undecodable messages are dropped and counted,
// and a stream is bound to the store named by its first message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole, type Peer } from '../../src/region/meta.js';
import { loadNyxProto, type RaftTransportClient } from '../../src/proto/load.js';
import { raftTransportHandlers } from '../../src/server/raft_service.js';
import { encodeEnvelope } from '../../src/store/envelope_codec.js';
import type { Channel, Refusal } from '../../src/store/message_validator.js';
import type { RaftEnvelope } from '../../src/store/raft_store.js';
import { SnapshotInbox } from '../../src/store/snap_transfer.js';
import type { RaftMessage } from '../../src/proto-gen/nyx/raft/RaftMessage.js';

const voter = (id: number, storeId: number): Peer => ({ id, storeId, role: PeerRole.Voter });

const delivered: [RaftEnvelope, Channel][] = [];
const dropped: Refusal[] = [];
let server: grpc.Server;
let client: RaftTransportClient;

before(async () => {
  server = new grpc.Server();
  const { nyx } = loadNyxProto();
  server.addService(
    nyx.raft.RaftTransport.service,
    raftTransportHandlers({
      deliver: (env, channel) => {
        delivered.push([env, channel]);
        return undefined;
      },
      dropped: (r) => {
        dropped.push(r);
      },
      snapshots: new SnapshotInbox('/nonexistent', {
        check: () => undefined,
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
  client = new nyx.raft.RaftTransport(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(() => {
  client.close();
  server.forceShutdown();
});

function msg(from: Peer, regionId = 1): RaftMessage {
  return encodeEnvelope({
    regionId,
    fromPeer: from,
    toPeer: voter(20 + regionId, 2),
    epoch: { confVer: 1, version: 1 },
    message: newMessage({
      type: MessageType.Heartbeat,
      from: from.id,
      to: 20 + regionId,
      term: 3,
    }),
  });
}

function stream(batches: RaftMessage[][]): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.Raft((err) => (err ? reject(err) : resolve()));
    for (const msgs of batches) call.write({ msgs });
    call.end();
  });
}

test('a stream carries only messages from the store its first message names', async () => {
  delivered.length = 0;
  dropped.length = 0;
  await stream([
    [msg(voter(11, 1), 1), msg(voter(31, 1), 3)],
    [msg(voter(41, 4), 4), msg(voter(51, 1), 5)],
  ]);
  assert.deepEqual(
    delivered.map(([e, ch]) => [e.regionId, e.fromPeer.storeId, ch]),
    [
      [1, 1, 'messages'],
      [3, 1, 'messages'],
      [5, 1, 'messages'],
    ],
  );
  assert.deepEqual(
    dropped.map((r) => r.reason),
    ['stream-store'],
  );
  // Another stream may be bound to another store.
  await stream([[msg(voter(41, 4), 4)]]);
  assert.equal(delivered.at(-1)![0].fromPeer.storeId, 4);
});

test('a message that does not decode is dropped and counted; the stream goes on', async () => {
  delivered.length = 0;
  dropped.length = 0;
  const bad = msg(voter(11, 1));
  bad.message = { ...bad.message!, term: '9007199254740991' };
  const noPeers = { ...msg(voter(11, 1)), fromPeer: null };
  await stream([[bad, noPeers, msg(voter(11, 1))]]);
  assert.deepEqual(
    dropped.map((r) => r.reason),
    ['decode', 'decode'],
  );
  assert.equal(delivered.length, 1);
});

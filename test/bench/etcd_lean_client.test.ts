// The hand-framed etcd client against a fake etcd: a grpc-js server that decodes with a
// real protobuf library from bench/etcd/kv.proto (etcd's field numbers), so the client's
// framing and encoding are checked by an independent implementation, over real HTTP/2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  EtcdLeanClient,
  GrpcStatusError,
  EtcdConnection,
} from '../../src/bench/etcd/lean_client.js';
import {
  decodeRangeValue,
  encodePutRequest,
  encodeRangeRequest,
  unframe,
} from '../../src/bench/etcd/grpc_wire.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROTO = path.join(ROOT, 'bench', 'etcd', 'kv.proto');

interface PutReq {
  key: Buffer;
  value: Buffer;
}
interface RangeReq {
  key: Buffer;
  serializable: boolean;
}

/** A fake member: a map of keys, a fixed member id and leader id. */
class FakeMember {
  readonly kv = new Map<string, Buffer>();
  readonly puts: PutReq[] = [];
  readonly ranges: RangeReq[] = [];
  failPutsWith: grpc.status | undefined;
  server = new grpc.Server();
  endpoint = '';

  constructor(
    readonly memberId: string,
    readonly leader: string,
  ) {}

  async start(): Promise<void> {
    const def = protoLoader.loadSync(PROTO, { longs: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      etcdserverpb: {
        KV: { service: grpc.ServiceDefinition };
        Maintenance: { service: grpc.ServiceDefinition };
      };
    };
    const header = { memberId: this.memberId, clusterId: '1', revision: '1', raftTerm: '2' };
    this.server.addService(pkg.etcdserverpb.KV.service, {
      Put: (call: grpc.ServerUnaryCall<PutReq, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.puts.push(call.request);
        if (this.failPutsWith !== undefined) {
          cb({ code: this.failPutsWith, details: 'etcdserver: too many requests' });
          return;
        }
        this.kv.set(call.request.key.toString('hex'), call.request.value);
        cb(null, { header });
      },
      Range: (call: grpc.ServerUnaryCall<RangeReq, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.ranges.push(call.request);
        const v = this.kv.get(call.request.key.toString('hex'));
        cb(null, {
          header,
          kvs: v ? [{ key: call.request.key, value: v }] : [],
          count: v ? 1 : 0,
        });
      },
    });
    this.server.addService(pkg.etcdserverpb.Maintenance.service, {
      Status: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { header, version: '3.4.23', leader: this.leader }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    this.endpoint = `127.0.0.1:${port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('hand-framed gRPC messages', () => {
  test('PutRequest and RangeRequest frames: prefix, tags, lengths', () => {
    const put = encodePutRequest(Buffer.from('k1'), Buffer.from('vv'));
    // 0 (not compressed), length 8, then field 1 (0x0a) len 2 "k1", field 2 (0x12) len 2 "vv".
    assert.deepEqual([...put], [0, 0, 0, 0, 8, 0x0a, 2, 0x6b, 0x31, 0x12, 2, 0x76, 0x76]);
    const range = encodeRangeRequest(Buffer.from('k'), true);
    assert.deepEqual([...range], [0, 0, 0, 0, 5, 0x0a, 1, 0x6b, 0x38, 1]);
    // A 200-byte value needs a two-byte length varint (200 = 0xc8 0x01).
    const big = encodePutRequest(Buffer.from('k'), Buffer.alloc(200, 7));
    assert.equal(big.readUInt32BE(1), 3 + 3 + 200);
    assert.deepEqual([...big.subarray(8, 11)], [0x12, 0xc8, 0x01]);
  });

  test('unframe refuses truncated and compressed messages', () => {
    assert.throws(() => unframe(Buffer.from([0, 0, 0, 0, 3, 1])), /truncated gRPC message/);
    assert.throws(() => unframe(Buffer.from([1, 0, 0, 0, 0])), /compressed/);
    assert.deepEqual(unframe(Buffer.from([0, 0, 0, 0, 0])), [Buffer.alloc(0)]);
  });

  test('a RangeResponse without kvs is a missing key', () => {
    assert.equal(decodeRangeValue(Buffer.alloc(0)), undefined);
  });
});

describe('EtcdLeanClient against a grpc-js server', () => {
  // Member ids above 2^53 must compare exactly (etcd's ids are random uint64s).
  const LEADER = '18446744073709551557';
  const members = [
    new FakeMember('12345', LEADER),
    new FakeMember(LEADER, LEADER),
    new FakeMember('9007199254740993', LEADER),
  ];
  let client: EtcdLeanClient;

  before(async () => {
    for (const m of members) await m.start();
    client = new EtcdLeanClient(members.map((m) => m.endpoint));
  });
  after(() => {
    client.close();
    for (const m of members) m.stop();
  });

  test('finds the leader by exact uint64 member id', async () => {
    assert.equal(await client.waitForLeader(5_000), 1);
  });

  test('put then linearizable get round-trips bytes, many calls in flight on one connection', async () => {
    const t = client.target(1);
    const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(`bench/${i}`));
    const value = (i: number) => Buffer.from(Array.from({ length: 100 }, (_, j) => (i + j) % 256));
    await Promise.all(keys.map((k, i) => t.put(k, value(i))));
    const got = await Promise.all(keys.map((k) => t.get(k)));
    got.forEach((v, i) => assert.deepEqual(v, value(i)));
    const leader = members[1]!;
    assert.equal(leader.puts.length, 300);
    assert.deepEqual(leader.puts[0]!.key, keys[0]);
    assert.equal(leader.ranges.length, 300);
    assert.ok(leader.ranges.every((r) => r.serializable === false));
    assert.equal(await t.get(Buffer.from('absent')), undefined);
    // An empty value is stored and read back as empty, not as missing.
    await t.put(Buffer.from('empty'), Buffer.alloc(0));
    assert.deepEqual(await t.get(Buffer.from('empty')), Buffer.alloc(0));
  });

  test('a non-OK gRPC status rejects with its code and message', async () => {
    const m = members[0]!;
    m.failPutsWith = grpc.status.RESOURCE_EXHAUSTED;
    const err = await new EtcdConnection(m.endpoint)
      .put(Buffer.from('a'), Buffer.from('b'))
      .catch((e: unknown) => e);
    assert.ok(err instanceof GrpcStatusError);
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err.message, /too many requests/);
  });

  test('a member that is gone fails the call instead of hanging', async () => {
    const gone = new FakeMember('1', '1');
    await gone.start();
    const conn = new EtcdConnection(gone.endpoint);
    await conn.put(Buffer.from('x'), Buffer.from('y'));
    gone.stop();
    await assert.rejects(conn.put(Buffer.from('x'), Buffer.from('y')));
    conn.close();
  });
});

// Round trips through the real protobuf serializer: the (de)serializers of the loaded
// service definitions, exactly what grpc-js uses on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNyxProto } from '../../src/proto/load.js';
import { toInt64, wireIntToBigInt } from '../../src/proto/uint64.js';
import type { RaftMessageBatch } from '../../src/proto-gen/nyx/raft/RaftMessageBatch.js';
import type { RawGetResponse } from '../../src/proto-gen/nyx/kv/RawGetResponse.js';
import type { TsoResponse } from '../../src/proto-gen/nyx/pd/TsoResponse.js';
import type { BatchCommandsRequest } from '../../src/proto-gen/nyx/kv/BatchCommandsRequest.js';

const { nyx } = loadNyxProto();

test('a RaftMessageBatch with entries and a snapshot survives the wire', () => {
  const method = nyx.raft.RaftTransport.service.Raft;
  const peer = (id: number, storeId: number) => ({ id, storeId, role: 'Voter' as const });
  const batch: RaftMessageBatch = {
    msgs: [
      {
        regionId: 7,
        fromPeer: peer(71, 1),
        toPeer: peer(72, 2),
        regionEpoch: { confVer: 3, version: 5 },
        startKey: Buffer.from('a'),
        endKey: Buffer.from('m'),
        message: {
          type: 'MsgApp',
          to: 72,
          from: 71,
          term: 9,
          logTerm: 8,
          index: 100,
          commit: 99,
          entries: [
            { type: 'EntryNormal', term: 9, index: 101, data: Buffer.from('put k v') },
            { type: 'EntryConfChange', term: 9, index: 102, data: Buffer.from([1, 2, 3]) },
            { type: 'EntryNormal', term: 9, index: 103, data: Buffer.alloc(0) },
          ],
        },
      },
      {
        regionId: 8,
        fromPeer: peer(81, 1),
        toPeer: { id: 83, storeId: 3, role: 'Learner' },
        regionEpoch: { confVer: 1, version: 1 },
        isTombstone: false,
        message: {
          type: 'MsgSnap',
          to: 83,
          from: 81,
          term: 4,
          snapshot: {
            data: Buffer.from('snapshot bytes'),
            metadata: {
              index: 500,
              term: 4,
              confState: {
                voters: [81, 82],
                votersOutgoing: [81, 82, 84],
                learners: [83],
                learnersNext: [84],
                autoLeave: true,
              },
            },
          },
          context: Buffer.alloc(0),
        },
      },
    ],
  };
  const out = method.requestDeserialize(method.requestSerialize(batch));

  assert.equal(out.msgs.length, 2);
  const [app, snap] = out.msgs as [(typeof out.msgs)[0], (typeof out.msgs)[0]];
  assert.equal(app.regionId, '7');
  assert.deepEqual(app.fromPeer, { id: '71', storeId: '1', role: 'Voter' });
  assert.deepEqual(app.regionEpoch, { confVer: '3', version: '5' });
  assert.deepEqual(app.startKey, Buffer.from('a'));
  assert.equal(app.isTombstone, false);
  const m = app.message!;
  assert.equal(m.type, 'MsgApp');
  assert.deepEqual(
    [m.to, m.from, m.term, m.logTerm, m.index, m.commit, m.rejectHint],
    ['72', '71', '9', '8', '100', '99', '0'],
  );
  assert.equal(m.snapshot, null);
  // Unset proto3 `optional` stays absent: the core tells it from an empty context.
  assert.equal('context' in m, false);
  assert.deepEqual(
    m.entries.map((e) => [e.type, e.term, e.index, e.data.toString('hex')]),
    [
      ['EntryNormal', '9', '101', Buffer.from('put k v').toString('hex')],
      ['EntryConfChange', '9', '102', '010203'],
      ['EntryNormal', '9', '103', ''],
    ],
  );

  assert.equal(snap.toPeer!.role, 'Learner');
  const s = snap.message!;
  assert.equal(s.type, 'MsgSnap');
  assert.deepEqual(s.context, Buffer.alloc(0));
  assert.equal(s._context, 'context');
  assert.deepEqual(s.snapshot!.data, Buffer.from('snapshot bytes'));
  assert.deepEqual(s.snapshot!.metadata, {
    index: '500',
    term: '4',
    confState: {
      voters: ['81', '82'],
      votersOutgoing: ['81', '82', '84'],
      learners: ['83'],
      learnersNext: ['84'],
      autoLeave: true,
    },
  });
});

test('a snapshot stream is a header chunk then data chunks (oneof payload)', () => {
  const method = nyx.raft.RaftTransport.service.Snapshot;
  const header = method.requestDeserialize(
    method.requestSerialize({ header: { regionId: 1, message: { type: 'MsgSnap' } } }),
  );
  assert.equal(header.payload, 'header');
  assert.equal(header.header!.message!.type, 'MsgSnap');
  assert.equal(header.data, undefined);

  const data = method.requestDeserialize(method.requestSerialize({ data: Buffer.from('xyz') }));
  assert.equal(data.payload, 'data');
  assert.deepEqual(data.data, Buffer.from('xyz'));
  assert.equal(data.header, undefined);
});

test('a RegionError carries exactly one typed error, named by its oneof', () => {
  const method = nyx.kv.Kv.service.RawGet;
  const roundTrip = (r: RawGetResponse) => method.responseDeserialize(method.responseSerialize(r));

  const notLeader = roundTrip({
    regionError: {
      message: 'not leader',
      notLeader: { regionId: 2, leader: { id: 22, storeId: 3 } },
    },
  });
  const e = notLeader.regionError!;
  assert.equal(e.kind, 'notLeader');
  assert.equal(e.message, 'not leader');
  assert.deepEqual(e.notLeader, {
    regionId: '2',
    leader: { id: '22', storeId: '3', role: 'Voter' },
  });
  for (const other of [
    'epochNotMatch',
    'regionNotFound',
    'keyNotInRegion',
    'serverIsBusy',
    'storeNotMatch',
    'raftEntryTooLarge',
  ] as const) {
    assert.equal(e[other], undefined, other);
  }
  // Success fields still read as defaults next to the error.
  assert.equal(notLeader.error, '');
  assert.equal(notLeader.notFound, false);
  assert.deepEqual(notLeader.value, Buffer.alloc(0));

  // A leader that is unknown stays null, not a zero peer.
  const noLeader = roundTrip({ regionError: { notLeader: { regionId: 2 } } });
  assert.equal(noLeader.regionError!.kind, 'notLeader');
  assert.equal(noLeader.regionError!.notLeader!.leader, null);

  const epoch = roundTrip({
    regionError: {
      epochNotMatch: {
        currentRegions: [
          {
            id: 2,
            startKey: Buffer.alloc(0),
            endKey: Buffer.from('g'),
            regionEpoch: { confVer: 1, version: 2 },
          },
          {
            id: 9,
            startKey: Buffer.from('g'),
            endKey: Buffer.alloc(0),
            regionEpoch: { confVer: 1, version: 2 },
          },
        ],
      },
    },
  });
  assert.equal(epoch.regionError!.kind, 'epochNotMatch');
  assert.deepEqual(
    epoch.regionError!.epochNotMatch!.currentRegions.map((r) => [
      r.id,
      r.startKey.toString(),
      r.endKey.toString(),
    ]),
    [
      ['2', '', 'g'],
      ['9', 'g', ''],
    ],
  );

  const busy = roundTrip({
    regionError: { serverIsBusy: { reason: 'apply queue full', backoffMs: 50 } },
  });
  assert.equal(busy.regionError!.kind, 'serverIsBusy');
  assert.deepEqual(busy.regionError!.serverIsBusy, { reason: 'apply queue full', backoffMs: '50' });

  const ok = roundTrip({ value: Buffer.from('v') });
  assert.equal(ok.regionError, null);
});

test('a TSO timestamp above 2^53 is exact on the wire', () => {
  const method = nyx.pd.PD.service.Tso;
  // physical << 18 | logical for a physical time in 2025 is about 2^58.
  const physical = 1_764_000_000_123;
  const logical = 262_143;
  const ts = (BigInt(physical) << 18n) | BigInt(logical);
  assert.ok(ts > 2n ** 53n);

  const resp: TsoResponse = {
    header: { clusterId: '18446744073709551615' },
    count: 3,
    timestamp: { physical: toInt64(physical), logical: toInt64(logical) },
  };
  const out = method.responseDeserialize(method.responseSerialize(resp));
  assert.equal(out.count, 3);
  assert.equal(out.header!.clusterId, '18446744073709551615');
  assert.equal(out.header!.error, null);
  const back =
    (wireIntToBigInt(out.timestamp!.physical) << 18n) | wireIntToBigInt(out.timestamp!.logical);
  assert.equal(back, ts);

  // The int64 parts themselves hold values a double cannot.
  const big = 2n ** 62n + 1n;
  const raw = method.responseDeserialize(
    method.responseSerialize({ timestamp: { physical: toInt64(big), logical: toInt64(-1n) } }),
  );
  assert.equal(wireIntToBigInt(raw.timestamp!.physical), big);
  assert.equal(raw.timestamp!.logical, '-1');
});

test('a PD error travels in the response header', () => {
  const method = nyx.pd.PD.service.GetRegion;
  const out = method.responseDeserialize(
    method.responseSerialize({
      header: { clusterId: 42, error: { type: 'RegionNotFound', message: 'no region for key' } },
    }),
  );
  assert.deepEqual(out.header, {
    clusterId: '42',
    error: { type: 'RegionNotFound', message: 'no region for key' },
  });
  assert.equal(out.region, null);
  assert.equal(out.leader, null);
});

test('BatchCommands multiplexes raw requests with ids (oneof cmd)', () => {
  const method = nyx.kv.Kv.service.BatchCommands;
  const req: BatchCommandsRequest = {
    requests: [
      { requestId: 1, rawGet: { context: { regionId: 2 }, key: Buffer.from('k') } },
      {
        requestId: '9007199254740993',
        rawScan: { startKey: Buffer.from('a'), endKey: Buffer.from('z'), limit: 10, reverse: true },
      },
      {
        requestId: 3,
        rawCompareAndSwap: {
          key: Buffer.from('k'),
          value: Buffer.from('v2'),
          previousNotExist: true,
        },
      },
    ],
  };
  const out = method.requestDeserialize(method.requestSerialize(req));
  assert.deepEqual(
    out.requests.map((r) => [r.requestId, r.cmd]),
    [
      ['1', 'rawGet'],
      ['9007199254740993', 'rawScan'],
      ['3', 'rawCompareAndSwap'],
    ],
  );
  assert.equal(out.requests[1]!.rawScan!.reverse, true);
  assert.equal(out.requests[1]!.rawScan!.keyOnly, false);
  assert.equal(out.requests[2]!.rawCompareAndSwap!.previousNotExist, true);

  const resp = nyx.kv.Kv.service.BatchCommands;
  const back = resp.responseDeserialize(
    resp.responseSerialize({
      responses: [
        { requestId: 3, rawCompareAndSwap: { succeed: true, previousNotExist: true } },
        { requestId: 4, error: 'unknown command' },
      ],
    }),
  );
  assert.equal(back.responses[0]!.cmd, 'rawCompareAndSwap');
  assert.equal(back.responses[0]!.rawCompareAndSwap!.succeed, true);
  assert.equal(back.responses[1]!.cmd, undefined);
  assert.equal(back.responses[1]!.error, 'unknown command');
});

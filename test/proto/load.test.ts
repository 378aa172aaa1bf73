import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadNyxProto, loadPackageDefinition, PROTO_DIR } from '../../src/proto/load.js';

test('the proto directory is found from the compiled module', () => {
  for (const f of [
    'meta.proto',
    'errors.proto',
    'raft.proto',
    'kv_context.proto',
    'kv.proto',
    'txn.proto',
    'pd.proto',
  ]) {
    assert.ok(existsSync(join(PROTO_DIR, f)), f);
  }
});

test('every service loads with the expected methods and streaming shapes', () => {
  const { nyx } = loadNyxProto();
  const shape = (def: Record<string, { requestStream: boolean; responseStream: boolean }>) =>
    Object.fromEntries(
      Object.entries(def).map(([name, m]) => [
        name,
        `${m.requestStream ? 'stream' : 'unary'}->${m.responseStream ? 'stream' : 'unary'}`,
      ]),
    );

  assert.deepEqual(shape(nyx.raft.RaftTransport.service), {
    Raft: 'stream->unary',
    Snapshot: 'stream->unary',
  });

  const kv = shape(nyx.kv.Kv.service);
  assert.equal(kv.BatchCommands, 'stream->stream');
  for (const rpc of [
    'RawGet',
    'RawBatchGet',
    'RawPut',
    'RawBatchPut',
    'RawDelete',
    'RawDeleteRange',
    'RawScan',
    'RawCompareAndSwap',
    'TxnGet',
    'TxnBatchGet',
    'TxnScan',
    'Prewrite',
    'Commit',
    'BatchRollback',
    'CheckTxnStatus',
    'CheckSecondaryLocks',
    'ResolveLock',
    'TxnHeartBeat',
    'ScanLock',
    'PessimisticLock',
    'PessimisticRollback',
  ]) {
    assert.equal(kv[rpc], 'unary->unary', rpc);
  }
  assert.equal(Object.keys(kv).length, 22);

  const pd = shape(nyx.pd.PD.service);
  assert.equal(pd.RegionHeartbeat, 'stream->stream');
  assert.equal(pd.Tso, 'stream->stream');
  for (const rpc of [
    'Bootstrap',
    'IsBootstrapped',
    'AllocID',
    'PutStore',
    'GetStore',
    'GetAllStores',
    'StoreHeartbeat',
    'GetRegion',
    'GetRegionByID',
    'ScanRegions',
    'GetConfig',
    'SetConfig',
    'AskBatchSplit',
    'SplitRegions',
    'MergeRegions',
    'GetGCSafePoint',
    'UpdateServiceGCSafePoint',
    'GetGCStatus',
    'AddOperator',
    'GetOperator',
    'ListOperators',
    'CancelOperator',
    'RemoveStore',
    'ListSchedulers',
    'ChangeScheduler',
    'ExplainRegion',
    'DetectDeadlock',
  ]) {
    assert.equal(pd[rpc], 'unary->unary', rpc);
  }
  assert.equal(Object.keys(pd).length, 29);
});

test('every message type of every package is in the loaded definition', () => {
  const def = loadPackageDefinition();
  for (const name of [
    'nyx.meta.Store',
    'nyx.meta.Region',
    'nyx.errors.RegionError',
    'nyx.raft.RaftMessageBatch',
    'nyx.raft.SnapshotChunk',
    'nyx.kv.BatchCommandsRequest',
    'nyx.pd.TsoResponse',
    'nyx.pd.RegionHeartbeatResponse',
  ]) {
    assert.ok(def[name], name);
  }
  // Loading is cached: servers and clients share one definition.
  assert.equal(loadPackageDefinition(), def);
  assert.equal(loadNyxProto(), loadNyxProto());
});

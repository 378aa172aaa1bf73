// Snapshots built off the loop: the builder against a fake of the layer below it (the
// worker's export), and the worker's export itself against a real Region file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SnapshotTemporarilyUnavailableError, type ConfState } from '../../src/raft/index.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { regionDbPath } from '../../src/storage/paths.js';
import { RegionEngine } from '../../src/storage/region_engine.js';
import { readSnapshotFileState, type SnapshotFileInfo } from '../../src/storage/region_snapshot.js';
import { OffLoopSnapshotBuilder } from '../../src/store/snapshot_builder.js';
import {
  exportSnapshotFile,
  exportSnapshotOffLoop,
  type ExportedSnapshot,
} from '../../src/store/snapshot_worker.js';

const region = (peers: number[]): Region => ({
  id: 7,
  startKey: Buffer.alloc(0),
  endKey: Buffer.alloc(0),
  epoch: { confVer: peers.length, version: 1 },
  peers: peers.map((id) => ({ id, storeId: id, role: PeerRole.Voter })),
});
const confStateOf = (r: Region): ConfState => ({
  voters: r.peers.map((p) => p.id),
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
});

function fakeExport(index: number, r: Region, dir: string): ExportedSnapshot {
  const file = path.join(dir, `snap-${index}`);
  fs.writeFileSync(file, 'x');
  const info: SnapshotFileInfo = {
    path: file,
    regionId: r.id,
    applyState: { appliedIndex: index, appliedTerm: 3 },
    size: 1,
    checksum: '00',
  };
  return { info, region: r };
}

test('the first ask starts one build and is told to come back; the next ask gets it, once', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-snapb-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let builds = 0;
  let finish: (s: ExportedSnapshot) => void = () => {};
  const b = new OffLoopSnapshotBuilder({
    exportOffLoop: () => (builds++, new Promise((r) => (finish = r))),
    truncatedIndex: () => 10,
    confStateOf,
  });
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.equal(builds, 1, 'asks while building start no second build');
  // The Region meta inside the file gives the configuration, not the peer's current one.
  finish(fakeExport(12, region([1, 2, 3]), dir));
  await new Promise((r) => setImmediate(r));
  const s = b.take();
  assert.equal(s.metadata.index, 12);
  assert.equal(s.metadata.term, 3);
  assert.deepEqual(s.metadata.confState.voters, [1, 2, 3]);
  // Handed out once: the next ask builds anew.
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.equal(builds, 2);
});

test('a snapshot the log was compacted past is dropped and built again; a failed build is reported', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-snapb-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let truncated = 10;
  const results: (ExportedSnapshot | Error)[] = [];
  const errors: string[] = [];
  const b = new OffLoopSnapshotBuilder({
    exportOffLoop: async () => {
      const r = results.shift()!;
      if (r instanceof Error) throw r;
      return r;
    },
    truncatedIndex: () => truncated,
    confStateOf,
    onError: (e) => errors.push(e.message),
  });
  const stale = fakeExport(12, region([1, 2, 3]), dir);
  results.push(stale, new Error('disk full'), fakeExport(30, region([1, 2, 3]), dir));
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  await new Promise((r) => setImmediate(r));
  truncated = 20;
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.equal(fs.existsSync(stale.info.path), false, 'the stale file is removed');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(errors, ['disk full']);
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  await new Promise((r) => setImmediate(r));
  assert.equal(b.take().metadata.index, 30);
});

test('no build starts while the disk has no room for it; one starts once there is', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-snapb-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let builds = 0;
  let room = false;
  const b = new OffLoopSnapshotBuilder({
    exportOffLoop: async () => (builds++, fakeExport(12, region([1, 2, 3]), dir)),
    truncatedIndex: () => 10,
    confStateOf,
    roomToBuild: () => room,
  });
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.equal(builds, 0);
  assert.equal(b.isBuilding, false);
  room = true;
  assert.throws(() => b.take(), SnapshotTemporarilyUnavailableError);
  assert.equal(builds, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(b.take().metadata.index, 12);
});

test('the worker writes a consistent file of the Region while the loop keeps its own connection', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-snapw-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const r = region([1, 2, 3]);
  const engine = new RegionEngine(dataDir, r.id);
  t.after(() => engine.close());
  engine.writeState({
    region: { region: r, tombstone: false },
    apply: { appliedIndex: 40, appliedTerm: 6 },
  });
  const onThread = exportSnapshotFile({ dataDir, regionId: r.id });
  assert.equal(onThread.info.applyState.appliedIndex, 40);
  assert.deepEqual(onThread.region.peers, r.peers);
  const off = await exportSnapshotOffLoop({ dataDir, regionId: r.id });
  assert.equal(off.info.applyState.appliedIndex, 40);
  assert.ok(Buffer.isBuffer(off.region.startKey));
  assert.equal(readSnapshotFileState(off.info.path, r.id).region?.region.id, r.id);
  await assert.rejects(exportSnapshotOffLoop({ dataDir, regionId: 99 }), /region 99 has no file/);
  assert.equal(fs.existsSync(regionDbPath(dataDir, 99)), false);
});

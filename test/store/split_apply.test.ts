// The apply of a batch split over real Region engines and a real Raft log engine: what
// each half holds afterwards, that the same entry means the same thing on every replica,
// and what a crash at each step (a failpoint's `return` stands in for the process dying
// there) leaves for a restart — which must end with both halves consistent.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clearFailpoints, setFailpoint } from '../../src/common/failpoint.js';
import { Entry, EntryType } from '../../src/raft/index.js';
import { RegionError } from '../../src/region/errors.js';
import { PeerRole, Region } from '../../src/region/meta.js';
import { TABLES } from '../../src/storage/region_schema.js';
import { RaftCommand, encodeCommand } from '../../src/store/cmd/command.js';
import { RegionPeer } from '../../src/store/peer.js';
import { INITIAL_LOG_INDEX } from '../../src/store/peer_loader.js';
import { SplitResult } from '../../src/store/split_apply.js';
import {
  commitSplitParentOffLoop,
  commitSplitParentOnOwnConnection,
  copySplitOffLoop,
} from '../../src/store/split_copy_worker.js';
import { tempDir } from '../storage/tmp.js';
import { LoaderDisk } from './loader_disk.js';

const SESSION = Buffer.from('session-1');

function parentRegion(): Region {
  return {
    id: 1,
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    epoch: { confVer: 1, version: 1 },
    peers: [1, 2, 3].map((s) => ({ id: s, storeId: s, role: PeerRole.Voter })),
  };
}

/** One store's engines over a data dir; restart() is a process restart. */
class Disk extends LoaderDisk {
  rows(regionId: number, table: (typeof TABLES)[number]): string[] {
    return this.engines
      .get(regionId)
      .scan({ table })
      .map((p) => `${p.key.toString()}=${p.value!.toString('hex')}`);
  }
}

let nextIndex = INITIAL_LOG_INDEX + 1;
function entry(cmd: RaftCommand): Entry {
  return { index: nextIndex++, term: 6, type: EntryType.Normal, data: encodeCommand(cmd) };
}

function puts(
  keys: string[],
  seq: number,
  epoch = { confVer: 1, version: 1 },
  regionId = 1,
): Entry {
  return entry({
    regionId,
    epoch,
    timeMs: 1000,
    requests: [
      {
        session: { id: SESSION, seq, lowestPending: 1 },
        writes: keys.map((k) => ({
          op: 'put' as const,
          cf: 'raw' as const,
          key: Buffer.from(k),
          value: Buffer.from(`v-${k}`),
        })),
      },
    ],
  });
}

function splitAt(keys: string[], epoch = { confVer: 1, version: 1 }): Entry {
  return entry({
    regionId: 1,
    epoch,
    timeMs: 1000,
    requests: [],
    admin: {
      kind: 'batchSplit',
      splits: keys.map((k, i) => ({
        splitKey: Buffer.from(k),
        newRegionId: 10 * (i + 1),
        newPeerIds: [1, 2, 3].map((s) => 10 * (i + 1) + s),
      })),
    },
  });
}

function setup(dir: string): { disk: Disk; parent: RegionPeer } {
  nextIndex = INITIAL_LOG_INDEX + 1;
  const disk = new Disk(dir);
  const parent = disk.loader.createInitialPeer(parentRegion());
  return { disk, parent };
}

/** What a finished split of keys a..z at 'm' and 't' must leave. */
function assertSplitDone(disk: Disk): void {
  assert.deepEqual(disk.rows(1, 'raw'), ['a=762d61', 'g=762d67']);
  assert.deepEqual(disk.rows(10, 'raw'), ['m=762d6d', 'n=762d6e']);
  assert.deepEqual(disk.rows(20, 'raw'), ['t=762d74', 'z=762d7a']);
  const p = disk.engines.get(1).regionState()!.region;
  assert.deepEqual([p.startKey.toString(), p.endKey.toString(), p.epoch.version], ['', 'm', 2]);
  const a = disk.engines.get(10).regionState()!.region;
  assert.deepEqual(
    [a.startKey.toString(), a.endKey.toString(), a.epoch],
    ['m', 't', { confVer: 1, version: 2 }],
  );
  assert.deepEqual(
    a.peers.map((x) => [x.id, x.storeId]),
    [
      [11, 1],
      [12, 2],
      [13, 3],
    ],
  );
  const b = disk.engines.get(20).regionState()!.region;
  assert.deepEqual([b.startKey.toString(), b.endKey.toString()], ['t', '']);
  // Session records are not cut by key: both halves hold the parent's whole table.
  const sessions = disk.rows(1, 'session');
  assert.equal(sessions.length, 1);
  assert.deepEqual(disk.rows(10, 'session'), sessions);
  assert.deepEqual(disk.rows(20, 'session'), sessions);
  for (const id of [10, 20])
    assert.equal(disk.engines.get(id).applyState().appliedIndex, INITIAL_LOG_INDEX);
}

afterEach(() => clearFailpoints());

describe('split apply', () => {
  test('cuts data by key, copies sessions whole, bumps versions, maps peer ids', (t) => {
    const { disk, parent } = setup(tempDir(t));
    parent.applyCommitted([puts(['a', 'm', 'z'], 1)]);
    // A write in the same apply batch right before the split is part of what is cut.
    const before = puts(['g', 'n', 't'], 2);
    const split = splitAt(['m', 't']);
    parent.applyCommitted([before, split]);
    assertSplitDone(disk);
    assert.equal(disk.engines.get(1).applyState().appliedIndex, split.index);
    assert.deepEqual([parent.region.endKey.toString(), parent.region.epoch.version], ['m', 2]);
    const [result] = parent.takeAppliedSplits() as SplitResult[];
    assert.deepEqual(
      result!.created.map((r) => r.id),
      [10, 20],
    );
    assert.deepEqual(parent.takeAppliedSplits(), [], 'taken once');
    disk.close();
  });

  test('each new Region gets the merged records of its range; the parent keeps all of its own', (t) => {
    const { disk, parent } = setup(tempDir(t));
    const rec = (source: number, start: string, end: string) => ({
      source,
      commit: 3,
      target: 1,
      range: { startKey: Buffer.from(start), endKey: Buffer.from(end) },
    });
    const records = [
      rec(5, 'b', 'c'),
      rec(6, 'l', 'n'),
      rec(7, 'u', ''),
      { source: 9, commit: 2, target: 1 },
    ];
    disk.engines.get(1).applyBatch([], disk.engines.get(1).applyState(), undefined, records);
    parent.applyCommitted([puts(['a', 'm', 'z'], 1), splitAt(['m', 't'])]);
    assert.deepEqual(disk.engines.get(10).mergedRecords(), [rec(6, 'l', 'n')]);
    assert.deepEqual(disk.engines.get(20).mergedRecords(), [rec(7, 'u', '')]);
    assert.deepEqual(disk.engines.get(1).mergedRecords(), records);
    disk.close();
  });

  test('a write of the old epoch is refused after the split, naming the new Regions', (t) => {
    const { disk, parent } = setup(tempDir(t));
    parent.applyCommitted([splitAt(['m'])]);
    const stale = puts(['b'], 1);
    // The proposer's view: the outcome an entry gets is what its client gets.
    const applier = (
      parent as unknown as { applier: { apply(e: Entry[]): { outcome: unknown }[] } }
    ).applier;
    const outcome = applier.apply([stale])[0]!.outcome;
    assert.ok(outcome instanceof RegionError && outcome.kind === 'EpochNotMatch');
    // The peer's own check names both halves, so a client cache learns them at once.
    const e = parent.epochNotMatch();
    assert.deepEqual(
      e.detail.kind === 'EpochNotMatch' && e.detail.currentRegions.map((r) => r.id),
      [1, 10],
    );
    assert.equal(disk.rows(1, 'raw').length, 0, 'nothing written');
    disk.close();
  });

  test('keys outside the Region or out of order: refused alike, nothing changes', (t) => {
    const { disk, parent } = setup(tempDir(t));
    parent.applyCommitted([puts(['a', 'z'], 1)]);
    const bad = splitAt(['t', 'm']); // not ascending
    parent.applyCommitted([bad]);
    assert.equal(parent.region.epoch.version, 1);
    assert.equal(disk.engines.get(10).exists(), false);
    assert.equal(
      disk.engines.get(1).applyState().appliedIndex,
      bad.index,
      'the entry is applied (as a no-op)',
    );
    assert.deepEqual(parent.takeAppliedSplits(), []);
    disk.close();
  });

  test('two replicas applying the same entries hold the same halves', (t) => {
    const a = setup(tempDir(t));
    const entries = [puts(['a', 'g', 'm', 'n', 't', 'z'], 1), splitAt(['m', 't'])];
    a.parent.applyCommitted(entries);
    nextIndex = INITIAL_LOG_INDEX + 1;
    const b = { disk: new Disk(tempDir(t)) };
    const bp = b.disk.loader.createInitialPeer(parentRegion());
    bp.applyCommitted(entries);
    for (const id of [1, 10, 20])
      for (const table of TABLES)
        assert.deepEqual(a.disk.rows(id, table), b.disk.rows(id, table), `region ${id} ${table}`);
    a.disk.close();
    b.disk.close();
  });

  test('a new Region whose file is already ahead of the split is left alone', (t) => {
    const { disk, parent } = setup(tempDir(t));
    // Its peer here was created from the new leader's messages and got a snapshot first.
    const ahead = disk.engines.get(10);
    const newer: Region = {
      ...parentRegion(),
      id: 10,
      startKey: Buffer.from('m'),
      endKey: Buffer.from('t'),
      epoch: { confVer: 1, version: 2 },
    };
    ahead.applyBatch(
      [{ op: 'put', table: 'raw', key: Buffer.from('p'), value: Buffer.from('newer') }],
      { appliedIndex: 40, appliedTerm: 7 },
      { region: newer, tombstone: false },
    );
    parent.applyCommitted([puts(['a', 'n'], 1), splitAt(['m', 't'])]);
    const [result] = parent.takeAppliedSplits() as SplitResult[];
    assert.deepEqual(result!.skipped, [10]);
    assert.deepEqual(disk.rows(10, 'raw'), ['p=6e65776572']);
    assert.equal(disk.engines.get(10).applyState().appliedIndex, 40);
    assert.deepEqual(disk.rows(1, 'raw'), ['a=762d61'], 'the parent is cut all the same');
    disk.close();
  });
});

describe('split apply: a crash at each step, then restart', () => {
  for (const fp of ['split_copy_before', 'split_copy_after'] as const) {
    test(`${fp}: the new Regions are not loaded; the replayed split finishes it`, (t) => {
      const { disk, parent } = setup(tempDir(t));
      parent.applyCommitted([puts(['a', 'g', 'm', 'n', 't', 'z'], 1)]);
      const split = splitAt(['m', 't']);
      setFailpoint(fp, 'return');
      assert.throws(() => parent.applyCommitted([split]), /failpoint/);
      clearFailpoints();
      const peers = disk.restart();
      assert.deepEqual(
        peers.map((p) => p.regionId),
        [1],
        'only the parent: a half-made new Region must not serve',
      );
      const [p] = peers;
      assert.equal(p!.region.epoch.version, 1);
      assert.equal(p!.appliedIndex, split.index - 1, 'the split is replayed from the log');
      p!.applyCommitted([split]);
      assertSplitDone(disk);
      // And the store then creates the new peers from their files.
      for (const r of (p!.takeAppliedSplits() as SplitResult[])[0]!.created) {
        const np = disk.loader.createSplitPeer(r);
        assert.equal(np.appliedIndex, INITIAL_LOG_INDEX);
      }
      const all = disk.restart();
      assert.deepEqual(
        all.map((x) => x.regionId),
        [1, 10, 20],
      );
      disk.close();
    });
  }

  test('split_parent_after: the split is done; restart loads every half', (t) => {
    const { disk, parent } = setup(tempDir(t));
    parent.applyCommitted([puts(['a', 'g', 'm', 'n', 't', 'z'], 1)]);
    const split = splitAt(['m', 't']);
    setFailpoint('split_parent_after', 'return');
    assert.throws(() => parent.applyCommitted([split]), /failpoint/);
    clearFailpoints();
    // The crash came before the store created the new peers: their logs do not exist.
    const peers = disk.restart();
    assert.deepEqual(
      peers.map((p) => [p.regionId, p.appliedIndex]),
      [
        [1, split.index],
        [10, INITIAL_LOG_INDEX],
        [20, INITIAL_LOG_INDEX],
      ],
    );
    for (const p of peers.slice(1)) {
      assert.equal(
        p.node.raft.raftLog.lastIndex(),
        INITIAL_LOG_INDEX,
        'log starts at the initial index',
      );
      assert.deepEqual(p.node.raft.trk.voterNodes(), [
        p.regionId + 1,
        p.regionId + 2,
        p.regionId + 3,
      ]);
    }
    assertSplitDone(disk);
    disk.close();
  });
});

describe('split apply with the copy on a worker thread', () => {
  for (const parentOffLoop of [false, true])
    test(`the parent holds later entries until the copy is done, then applies them${parentOffLoop ? ' (the cut on a worker too)' : ''}`, async (t) => {
      nextIndex = INITIAL_LOG_INDEX + 1;
      const disk = new Disk(tempDir(t));
      disk.loader.splitCopier = copySplitOffLoop;
      if (parentOffLoop) disk.loader.splitParentCommitter = commitSplitParentOffLoop;
      const parent = disk.loader.createInitialPeer(parentRegion());
      parent.applyCommitted([puts(['a', 'g', 'm', 'n', 't', 'z'], 1)]);
      const split = splitAt(['m', 't']);
      const after = puts(['b'], 2, { confVer: 1, version: 2 });
      const done = new Promise<Error | undefined>((resolve) => {
        parent.onAsyncApplied = resolve;
      });
      parent.applyCommitted([split]);
      assert.equal(parent.appliedIndex, split.index - 1, 'the split waits for its copy');
      assert.equal(parent.region.epoch.version, 1);
      assert.equal(parent.applyingSplit, true);
      parent.applyCommitted([after]); // committed meanwhile: held, not applied
      assert.equal(parent.appliedIndex, split.index - 1);
      assert.equal(await done, undefined);
      assert.equal(parent.applyingSplit, false);
      assert.equal(parent.appliedIndex, after.index, 'held entries applied after the split');
      assert.equal(disk.engines.get(1).applyState().appliedIndex, after.index);
      assert.equal(disk.engines.get(1).regionState()!.region.endKey.toString(), 'm');
      assert.deepEqual(disk.rows(1, 'raw'), ['a=762d61', 'b=762d62', 'g=762d67']);
      assert.deepEqual(disk.rows(10, 'raw'), ['m=762d6d', 'n=762d6e']);
      assert.deepEqual(disk.rows(20, 'raw'), ['t=762d74', 'z=762d7a']);
      assert.equal(disk.rows(10, 'session').length, 1, 'sessions as of the split');
      assert.equal(disk.engines.get(10).applyState().appliedIndex, INITIAL_LOG_INDEX);
      assert.equal(disk.engines.get(20).regionState()!.region.epoch.version, 2);
      assert.deepEqual(
        (parent.takeAppliedSplits() as SplitResult[]).map((r) => r.created.map((x) => x.id)),
        [[10, 20]],
      );
      disk.close();
    });

  test('no peer is created from a message for a Region whose copy is being written', async (t) => {
    nextIndex = INITIAL_LOG_INDEX + 1;
    const disk = new Disk(tempDir(t));
    // The copy waits for the test to let it run: a worker thread writing the new Regions'
    // files at the moment a message of one of them arrives on the loop.
    let runCopy!: () => void;
    const copying = new Promise<void>((resolve) => (runCopy = resolve));
    disk.loader.splitCopier = async (req) => {
      await copying;
      return copySplitOffLoop(req);
    };
    const parent = disk.loader.createInitialPeer(parentRegion());
    parent.applyCommitted([puts(['a', 'm', 't'], 1)]);
    const done = new Promise<Error | undefined>((resolve) => {
      parent.onAsyncApplied = resolve;
    });
    parent.applyCommitted([splitAt(['m', 't'])]);
    const placeholder = (id: number): Region => ({
      id,
      startKey: Buffer.alloc(0),
      endKey: Buffer.alloc(0),
      epoch: { confVer: 0, version: 0 },
      peers: [
        { id: id + 1, storeId: 1, role: PeerRole.Learner },
        { id: id + 2, storeId: 2, role: PeerRole.Learner },
      ],
    });
    // A placeholder would open the file the worker writes (SQLite: "database is locked"
    // in the worker, which stops the store); the message is dropped, the leader resends.
    assert.equal(disk.loader.createFromMessage(placeholder(10)), undefined);
    assert.equal(disk.loader.createFromMessage(placeholder(20)), undefined);
    assert.equal(disk.loader.createFromMessage(placeholder(30))?.regionId, 30, 'not copied');
    runCopy();
    assert.equal(await done, undefined);
    assert.deepEqual(disk.rows(10, 'raw'), ['m=762d6d']);
    // Once the copy has written the Region, the split creates the peer, not a message.
    assert.equal(disk.loader.createFromMessage(placeholder(10)), undefined);
    disk.close();
  });
});

describe('split step 2 on a connection of its own', () => {
  test('cuts the parent only while its file is where the split found it', (t) => {
    nextIndex = INITIAL_LOG_INDEX + 1;
    const disk = new Disk(tempDir(t));
    const parent = disk.loader.createInitialPeer(parentRegion());
    parent.applyCommitted([puts(['a', 'm', 't'], 1)]);
    const before = disk.engines.get(1).applyState();
    const region = parentRegion();
    const split = {
      parent: { ...region, endKey: Buffer.from('m'), epoch: { confVer: 1, version: 2 } },
      created: [
        { ...region, id: 10, startKey: Buffer.from('m'), epoch: { confVer: 1, version: 2 } },
      ],
    };
    const req = { dataDir: disk.dir, split, apply: { index: before.appliedIndex + 1, term: 6 } };
    // The step's own connection is let in, as the loader does around the worker's job.
    t.after(disk.engines.get(1).share());
    // The file moved on (a snapshot, say): nothing is written.
    const moved = { appliedIndex: before.appliedIndex - 1, appliedTerm: before.appliedTerm };
    assert.equal(commitSplitParentOnOwnConnection({ ...req, before: moved }), false);
    disk.engines.get(1).reloadState();
    assert.deepEqual(
      disk.rows(1, 'raw').map((r) => r.split('=')[0]),
      ['a', 'm', 't'],
    );
    // Where the split found it: the cut and the new meta, in one transaction.
    assert.equal(commitSplitParentOnOwnConnection({ ...req, before }), true);
    disk.engines.get(1).reloadState();
    assert.deepEqual(
      disk.rows(1, 'raw').map((r) => r.split('=')[0]),
      ['a'],
    );
    assert.equal(disk.engines.get(1).applyState().appliedIndex, before.appliedIndex + 1);
    assert.equal(disk.engines.get(1).regionState()!.region.epoch.version, 2);
    disk.close();
  });
});

// Restart after a crash, with the on-disk state a crash leaves built directly with the
// storage engines: the loader must start every peer from a Raft log that describes what
// its Region engine applied, and the store must end up hosting every bootstrapped peer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Entry, EntryType, MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole, Region } from '../../src/region/meta.js';
import { StorageCorruptionError } from '../../src/storage/errors.js';
import { RaftLogWriteBatch } from '../../src/storage/raft_log_batch.js';
import { RegionEnginePool } from '../../src/storage/region_engine_pool.js';
import { INITIAL_LOG_INDEX, INITIAL_LOG_TERM, confStateOf } from '../../src/store/peer_loader.js';
import { tempDir } from '../storage/tmp.js';
import { LoaderDisk } from './loader_disk.js';

const STORE = 1;

function region(id: number, stores = [1, 2, 3], epoch = { confVer: 1, version: 1 }): Region {
  return {
    id,
    startKey: Buffer.from(`k${id}`),
    endKey: Buffer.from(`k${id + 1}`),
    epoch,
    peers: stores.map((s) => ({ id: 100 * id + s, storeId: s, role: PeerRole.Voter })),
  };
}

/** One store's engines over a data dir; open() again after close() is a restart. */

function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++)
    out.push({ term, index: i, type: EntryType.Normal, data: new Uint8Array(0) });
  return out;
}

/**
 * A snapshot file of Region `r` applied up to (index, term) with key `k` = `v`, made on
 * another store's engine the way a leader makes one (exportSnapshot).
 */
function snapshotFile(dir: string, r: Region, index: number, term: number): string {
  const pool = new RegionEnginePool(path.join(dir, 'leader'));
  const e = pool.get(r.id);
  e.applyBatch(
    [{ op: 'put', table: 'raw', key: Buffer.from('k'), value: Buffer.from('v') }],
    { appliedIndex: index, appliedTerm: term },
    { region: r, tombstone: false },
  );
  const file = e.exportSnapshot().path;
  pool.closeAll();
  return file;
}

describe('peer loader: a crash during snapshot install', () => {
  test('with a longer, divergent log: the log becomes the snapshot record at restart', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const r = region(1);
    disk.loader.createInitialPeer(r);
    // The follower took entries 6..30 of term 6 from a leader that lost; 6..10 committed.
    disk.logEngine.write(
      new RaftLogWriteBatch()
        .append(r.id, entries(6, 30, 6))
        .setHardState(r.id, { term: 6, vote: 102, commit: 10 }),
    );
    // The new leader of term 7 sent a snapshot at 20/7 (its entry 20 is of term 7). The
    // store imported it into the engine, then crashed before the log write.
    disk.engines.get(r.id).importSnapshot(snapshotFile(disk.dir, r, 20, 7));

    const [peer] = disk.restart();
    assert.ok(peer);
    const log = peer.node.raft.raftLog;
    assert.equal(peer.appliedIndex, 20);
    assert.equal(log.term(20), 7, 'the log agrees with the engine at the apply index');
    assert.equal(log.lastIndex(), 20, 'the divergent tail is gone');
    assert.equal(log.committed, 20);
    assert.deepEqual(peer.logStorage.hardState(), { term: 7, vote: 0, commit: 20 });
    assert.equal(disk.engines.get(r.id).get('raw', Buffer.from('k'))?.toString(), 'v');

    // The leader of term 7 appends after its snapshot: the peer takes it.
    peer.node.step(
      newMessage({
        type: MessageType.App,
        from: 102,
        to: 101,
        term: 7,
        index: 20,
        logTerm: 7,
        entries: entries(21, 21, 7),
        commit: 21,
      }),
    );
    const rd = peer.node.ready();
    assert.deepEqual(
      rd.entries.map((e) => [e.index, e.term]),
      [[21, 7]],
    );
    const ack = [...rd.messages, ...rd.persistedMessages].find(
      (m) => m.type === MessageType.AppResp,
    );
    assert.ok(ack && !ack.reject && ack.index === 21, 'accepted, not rejected');

    // And the repair itself is durable.
    const [again] = disk.restart();
    assert.equal(again!.node.raft.raftLog.term(20), 7);
    disk.close();
  });

  test('with a log that holds the applied entry: the log is kept whole', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const r = region(1);
    disk.loader.createInitialPeer(r);
    disk.logEngine.write(
      new RaftLogWriteBatch()
        .append(r.id, entries(6, 30, 7))
        .setHardState(r.id, { term: 7, vote: 102, commit: 10 }),
    );
    // Applied up to 20/7 (the commit index in the log is written lazily, so it lags).
    disk.engines.get(r.id).writeState({ apply: { appliedIndex: 20, appliedTerm: 7 } });

    const [peer] = disk.restart();
    const log = peer!.node.raft.raftLog;
    assert.equal(log.lastIndex(), 30);
    assert.equal(log.committed, 20);
    assert.deepEqual(peer!.logStorage.hardState(), { term: 7, vote: 102, commit: 20 });
    disk.close();
  });

  test('with an engine ahead of a shorter log: the snapshot is recorded', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const r = region(1);
    disk.loader.createInitialPeer(r);
    disk.logEngine.write(
      new RaftLogWriteBatch()
        .append(r.id, entries(6, 12, 6))
        .setHardState(r.id, { term: 8, vote: 103, commit: 8 }),
    );
    disk.engines.get(r.id).importSnapshot(snapshotFile(disk.dir, r, 20, 7));

    const [peer] = disk.restart();
    const log = peer!.node.raft.raftLog;
    assert.equal(log.lastIndex(), 20);
    assert.equal(log.term(20), 7);
    // A later term and its vote survive: the vote was promised in term 8.
    assert.deepEqual(peer!.logStorage.hardState(), { term: 8, vote: 103, commit: 20 });
    disk.close();
  });

  test('an engine behind the compacted log cannot be repaired: the load fails loudly', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const r = region(1);
    disk.loader.createInitialPeer(r);
    disk.logEngine.write(
      new RaftLogWriteBatch()
        .append(r.id, entries(6, 30, 6))
        .setHardState(r.id, { term: 6, vote: 0, commit: 30 })
        .compact(r.id, 25),
    );
    disk.engines.get(r.id).writeState({ apply: { appliedIndex: 20, appliedTerm: 6 } });
    assert.throws(() => disk.restart(), StorageCorruptionError);
    disk.close();
  });
});

describe('peer loader: a crash while creating the peers of bootstrapped Regions', () => {
  test('the peers that are missing or half written are created; others are left alone', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const created = region(1);
    const halfEngine = region(2); // its engine file exists, nothing in it
    const noLog = region(3); // its engine is written, its log is not
    const missing = region(4);
    const elsewhere = region(5, [2, 3, 4]);
    const tombstoned = region(6);
    const moved = region(7, [1, 2, 3], { confVer: 2, version: 1 });
    disk.loader.createInitialPeer(created);
    disk.engines.get(halfEngine.id).count('raw'); // opens: creates the file and schema
    disk.engines.get(noLog.id).writeState({
      region: { region: noLog, tombstone: false },
      apply: { appliedIndex: INITIAL_LOG_INDEX, appliedTerm: INITIAL_LOG_TERM },
    });
    disk.engines.get(tombstoned.id).writeState({ region: { region: tombstoned, tombstone: true } });

    const loaded = disk.restart();
    assert.deepEqual(
      loaded.map((p) => p.regionId),
      [created.id, noLog.id],
    );
    const pd = [created, halfEngine, noLog, missing, elsewhere, tombstoned, moved];
    const hosted = new Set(loaded.map((p) => p.regionId));
    const added = disk.loader.createMissingBootstrapPeers(pd, hosted);
    assert.deepEqual(
      added.map((p) => p.regionId),
      [halfEngine.id, missing.id],
    );

    // Every bootstrapped peer of this store now starts from the same initial state, and
    // stays there across another restart.
    const all = disk.restart();
    assert.deepEqual(
      all.map((p) => p.regionId),
      [created.id, halfEngine.id, noLog.id, missing.id],
    );
    for (const p of all) {
      const r = pd.find((x) => x.id === p.regionId)!;
      assert.equal(p.peerId, 100 * r.id + STORE);
      assert.equal(p.appliedIndex, INITIAL_LOG_INDEX);
      assert.equal(p.node.raft.raftLog.lastIndex(), INITIAL_LOG_INDEX);
      assert.equal(p.node.raft.raftLog.term(INITIAL_LOG_INDEX), INITIAL_LOG_TERM);
      assert.deepEqual(p.logStorage.initialState().confState, confStateOf(r));
    }
    // Run again, nothing more to do.
    assert.deepEqual(
      disk.loader.createMissingBootstrapPeers(pd, new Set(all.map((p) => p.regionId))),
      [],
    );
    disk.close();
  });

  test('the vote of a placeholder peer a crash left before its snapshot is kept', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const r = region(1);
    // The other replicas elected a leader first; their messages made a placeholder here
    // that voted in term 7, and the store was killed before the snapshot came.
    disk.logEngine.write(
      new RaftLogWriteBatch().setHardState(r.id, { term: 7, vote: 101, commit: 0 }),
    );
    assert.deepEqual(disk.restart(), []);
    const [p] = disk.loader.createMissingBootstrapPeers([r], new Set());
    assert.equal(p?.regionId, r.id);
    assert.deepEqual(disk.logEngine.region(r.id).hardState(), {
      term: 7,
      vote: 101,
      commit: INITIAL_LOG_INDEX,
    });
    const [again] = disk.restart();
    assert.equal(again?.node.raft.term, 7);
    assert.equal(again?.node.raft.vote, 101);
    assert.equal(again?.node.raft.raftLog.lastIndex(), INITIAL_LOG_INDEX);
    disk.close();
  });

  test('a log that moved past the initial state is never bootstrapped over', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const r = region(1);
    // A log with a vote of term 9 but no Region meta in the engine (never written so).
    disk.logEngine.write(
      new RaftLogWriteBatch()
        .applySnapshot(r.id, {
          index: INITIAL_LOG_INDEX,
          term: INITIAL_LOG_TERM,
          confState: confStateOf(r),
        })
        .setHardState(r.id, { term: 9, vote: 102, commit: INITIAL_LOG_INDEX }),
    );
    // Created in one batch with other Regions: the refusal comes before any of them is written.
    const other = region(2);
    assert.throws(
      () => disk.loader.createMissingBootstrapPeers([other, r], new Set()),
      StorageCorruptionError,
    );
    assert.deepEqual(disk.logEngine.region(r.id).hardState(), {
      term: 9,
      vote: 102,
      commit: INITIAL_LOG_INDEX,
    });
    assert.equal(disk.engines.get(other.id).exists(), false);
    assert.equal(disk.logEngine.has(other.id), false);
    disk.close();
  });
});

describe('peer loader: a peer created from a message', () => {
  test('is not made over a Region file a split copy wrote, even after this process read it empty', (t) => {
    const disk = new LoaderDisk(tempDir(t));
    const placeholder: Region = {
      id: 9,
      startKey: Buffer.alloc(0),
      endKey: Buffer.alloc(0),
      epoch: { confVer: 0, version: 0 },
      peers: [
        { id: 901, storeId: STORE, role: PeerRole.Learner },
        { id: 902, storeId: 2, role: PeerRole.Learner },
      ],
    };
    // This process has the file open with nothing in it ...
    assert.equal(disk.engines.get(9).applyState().appliedIndex, 0);
    // ... when the split's copy (a worker thread: its own connection, which the store's
    // engine lets in, as copyOffLoop does) writes the initial state of the new Region
    // into it.
    const release = disk.engines.get(9).share();
    const worker = new RegionEnginePool(disk.dir, { exclusiveLocking: false });
    worker.get(9).writeState({
      region: { region: region(9), tombstone: false },
      apply: { appliedIndex: INITIAL_LOG_INDEX, appliedTerm: INITIAL_LOG_TERM },
    });
    worker.closeAll();
    release();
    assert.equal(disk.loader.createFromMessage(placeholder), undefined);
    // A Region no split is copying gets its placeholder.
    const other = { ...placeholder, id: 10 };
    assert.equal(disk.loader.createFromMessage(other)?.regionId, 10);
    disk.close();
  });
});

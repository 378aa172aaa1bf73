// Where a peer's apply index lives: a batch of committed entries that changes data goes to
// the Region file in one transaction with its index; a batch of a new leader's empty
// entries only moves the index in memory (region_applier.ts), so an election does not
// open the file. Real Region engines and Raft log engine; restart() keeps what SQLite holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Entry, EntryType } from '../../src/raft/index.js';
import { PeerRole, Region } from '../../src/region/meta.js';
import { encodeCommand } from '../../src/store/cmd/command.js';
import { INITIAL_LOG_INDEX, INITIAL_LOG_TERM } from '../../src/store/peer_loader.js';
import { tempDir } from '../storage/tmp.js';
import { LoaderDisk } from './loader_disk.js';

const region: Region = {
  id: 1,
  startKey: Buffer.alloc(0),
  endKey: Buffer.alloc(0),
  epoch: { confVer: 1, version: 1 },
  peers: [1, 2, 3].map((s) => ({ id: s, storeId: s, role: PeerRole.Voter })),
};

const empty = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: Buffer.alloc(0),
});

const put = (index: number, term: number, key: string): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: encodeCommand({
    regionId: 1,
    epoch: region.epoch,
    timeMs: 1000,
    requests: [
      { writes: [{ op: 'put', cf: 'raw', key: Buffer.from(key), value: Buffer.from('v') }] },
    ],
  }),
});

test('a new leader’s empty entry moves the apply index without opening the Region file', (t) => {
  const disk = new LoaderDisk(tempDir(t));
  const peer = disk.loader.createInitialPeer(region);
  disk.engines.hibernate(1);
  const opens = disk.engines.stats.opens;

  peer.applyCommitted([empty(INITIAL_LOG_INDEX + 1, INITIAL_LOG_TERM + 1)]);
  assert.equal(peer.appliedIndex, INITIAL_LOG_INDEX + 1);
  assert.equal(disk.engines.stats.opens, opens, 'the file was not opened');
  const file = disk.engines.get(1);
  assert.equal(file.applyState().appliedIndex, INITIAL_LOG_INDEX, 'the file keeps its index');
  // The log may be compacted only below what the file holds: the empty entry stays.
  assert.equal(file.flush().appliedIndex, INITIAL_LOG_INDEX);

  // The next write carries the index to the file, with the data, in one transaction.
  peer.applyCommitted([put(7, 6, 'a'), empty(8, 7)]);
  assert.equal(peer.appliedIndex, 8);
  assert.equal(file.applyState().appliedIndex, 8, 'a batch with data writes its last index');
  peer.applyCommitted([empty(9, 8)]);
  assert.equal(file.applyState().appliedIndex, 8);

  // A restart starts from the file's index; the empty entry after it is applied again.
  const [again] = disk.restart();
  assert.equal(again!.appliedIndex, 8);
  assert.deepEqual(disk.engines.get(1).get('raw', Buffer.from('a')), Buffer.from('v'));
  again!.applyCommitted([empty(9, 8), put(10, 8, 'b')]);
  assert.equal(disk.engines.get(1).applyState().appliedIndex, 10);
  disk.close();
});

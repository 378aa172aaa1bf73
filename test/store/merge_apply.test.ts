// The apply of PrepareMerge / CommitMerge / RollbackMerge over real Region engines and a
// real Raft log engine (one store hosting both Regions, as every store of a merge does):
// the fence, the move of rows and sessions, the catch-up of a lagging source replica from
// the carried entries, refusals, and what a crash at each step (a failpoint's `return`
// stands in for the process dying there) leaves for a restart.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clearFailpoints, setFailpoint } from '../../src/common/failpoint.js';
import { ConfChangeType, Entry, EntryType, encodeConfChange } from '../../src/raft/index.js';
import { RegionError } from '../../src/region/errors.js';
import { PeerRole, Region } from '../../src/region/meta.js';
import { RaftLogWriteBatch } from '../../src/storage/raft_log_batch.js';
import { AdminCommand, RaftCommand, encodeCommand } from '../../src/store/cmd/command.js';
import { buildConfChange } from '../../src/store/conf_change.js';
import { MergeOutcome } from '../../src/store/merge_apply.js';
import { RegionPeer } from '../../src/store/peer.js';
import { INITIAL_LOG_INDEX } from '../../src/store/peer_loader.js';
import { tempDir } from '../storage/tmp.js';
import { heldSplitCopier } from './held_split_copier.js';
import { LoaderDisk } from './loader_disk.js';

const SESSION = Buffer.from('session-1');
const SOURCE = 1;
const TARGET = 2;

function region(id: number, start: string, end: string): Region {
  return {
    id,
    startKey: Buffer.from(start),
    endKey: Buffer.from(end),
    epoch: { confVer: 1, version: 1 },
    peers: [1, 2, 3].map((s) => ({ id: id * 10 + s, storeId: s, role: PeerRole.Voter })),
  };
}

/** One store's engines over a data dir; restart() is a process restart. */
class Disk extends LoaderDisk {
  peers = new Map<number, RegionPeer>();

  override open(): void {
    super.open();
    this.peers = new Map();
    this.loader.peerOf = (id) => this.peers.get(id);
  }

  override restart(): RegionPeer[] {
    const loaded = super.restart();
    for (const p of loaded) this.peers.set(p.regionId, p);
    return loaded;
  }

  rows(regionId: number): string[] {
    return this.engines
      .get(regionId)
      .scan({ table: 'raw' })
      .map((p) => `${p.key.toString()}=${p.value!.toString()}`);
  }
}

const next = new Map<number, number>();
function entry(cmd: RaftCommand): Entry {
  const index = next.get(cmd.regionId) ?? INITIAL_LOG_INDEX + 1;
  next.set(cmd.regionId, index + 1);
  return { index, term: 6, type: EntryType.Normal, data: encodeCommand(cmd) };
}

function puts(regionId: number, keys: string[], seq: number, epoch = { confVer: 1, version: 1 }) {
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

function admin(regionId: number, epoch: { confVer: number; version: number }, a: AdminCommand) {
  return entry({ regionId, epoch, timeMs: 1000, requests: [], admin: a });
}

/** Source [, m) and target [m, ) on this store, each with a few rows. */
function setup(dir: string): { disk: Disk; source: RegionPeer; target: RegionPeer } {
  next.clear();
  const disk = new Disk(dir);
  const source = disk.loader.createInitialPeer(region(SOURCE, '', 'm'));
  const target = disk.loader.createInitialPeer(region(TARGET, 'm', ''));
  disk.peers.set(SOURCE, source);
  disk.peers.set(TARGET, target);
  source.applyCommitted([puts(SOURCE, ['a', 'g'], 1)]);
  target.applyCommitted([puts(TARGET, ['m', 'z'], 2)]);
  return { disk, source, target };
}

const PREPARED_EPOCH = { confVer: 2, version: 2 };

function prepare(minIndex = INITIAL_LOG_INDEX): Entry {
  return admin(
    SOURCE,
    { confVer: 1, version: 1 },
    {
      kind: 'prepareMerge',
      minIndex,
      target: region(TARGET, 'm', ''),
    },
  );
}

function commit(prepareIndex: number, entries: Entry[] = []): Entry {
  const source = region(SOURCE, '', 'm');
  source.epoch = { ...PREPARED_EPOCH };
  return admin(
    TARGET,
    { confVer: 1, version: 1 },
    {
      kind: 'commitMerge',
      source,
      commit: prepareIndex,
      entries,
    },
  );
}

function outcome(p: RegionPeer): MergeOutcome[] {
  return p.takeAppliedMerges();
}

/** What a finished merge of the setup must leave. */
function assertMerged(disk: Disk): void {
  assert.deepEqual(disk.rows(TARGET), ['a=v-a', 'g=v-g', 'm=v-m', 'z=v-z']);
  const t = disk.engines.get(TARGET).regionState()!.region;
  assert.deepEqual(
    [t.startKey.toString(), t.endKey.toString(), t.epoch],
    ['', '', { confVer: 1, version: 3 }],
  );
  // Both Regions' session records of the same session are merged: either seq answers.
  const s = disk.engines.get(TARGET).scan({ table: 'session' });
  assert.equal(s.length, 1);
}

afterEach(() => clearFailpoints());

describe('merge apply', () => {
  test('PrepareMerge fences the source: epoch bumped, old writes and new requests refused', (t) => {
    const { disk, source } = setup(tempDir(t));
    const p = prepare();
    const stale = puts(SOURCE, ['b'], 3); // proposed before the fence, applied after it
    source.applyCommitted([p, stale]);
    const [o] = outcome(source);
    assert.equal(o!.kind, 'prepared');
    assert.deepEqual(source.region.epoch, PREPARED_EPOCH);
    assert.equal(source.merging()!.commit, stale.index - 1);
    assert.deepEqual(disk.rows(SOURCE), ['a=v-a', 'g=v-g'], 'the stale write is refused');
    assert.throws(
      () => source.checkRequest(undefined, false),
      (e: unknown) => e instanceof RegionError && /merging/.test(e.message),
    );
    // The fence is durable with the meta.
    const [s] = disk.restart().filter((p) => p.regionId === SOURCE);
    assert.equal(s!.merging()!.commit, stale.index - 1);
    disk.close();
  });

  test('a conf change applied while fenced keeps the fence, also across a restart', (t) => {
    // A membership change may reach a fenced source's log (its leader did not know of the
    // fence yet). Applying it rewrites the Region's meta; it must keep the merge state, or
    // a restarted replica would take writes that its fenced peers refuse: they diverge.
    const { disk, source } = setup(tempDir(t));
    source.applyCommitted([prepare()]);
    const fence = source.merging()!;
    const learner = { id: 999, storeId: 2 };
    const cc = buildConfChange(source.region, [
      { peer: learner, type: ConfChangeType.AddLearnerNode },
    ]);
    const index = next.get(SOURCE)!;
    next.set(SOURCE, index + 1);
    source.applyCommitted([
      { index, term: 6, type: EntryType.ConfChange, data: encodeConfChange(cc) },
    ]);
    assert.ok(
      source.region.peers.some((p) => p.id === learner.id),
      'the change applied',
    );
    assert.deepEqual(source.merging(), fence);
    const [s] = disk.restart().filter((p) => p.regionId === SOURCE);
    assert.deepEqual(s!.merging(), fence, 'the fence is durable with the new meta');
    disk.close();
  });

  test('CommitMerge moves rows and sessions into the target and widens it', (t) => {
    const { disk, source, target } = setup(tempDir(t));
    const p = prepare();
    source.applyCommitted([p]);
    target.applyCommitted([commit(p.index)]);
    const [o] = outcome(target);
    assert.equal(o!.kind, 'committed');
    assert.equal(o!.kind === 'committed' && o!.source.id, SOURCE);
    assertMerged(disk);
    assert.equal(source.isMergedAway(), true);
    assert.equal(target.region.epoch.version, 3);
    disk.close();
  });

  test('CommitMerge records the merge with its target and range, and passes on what the source took in of its range', (t) => {
    const { disk, source, target } = setup(tempDir(t));
    const rec = (src: number, start: string, end: string, tgt: number) => ({
      source: src,
      commit: 3,
      target: tgt,
      range: { startKey: Buffer.from(start), endKey: Buffer.from(end) },
    });
    // The source took in Region 7 once, and holds a record of a range it no longer has
    // (split away since): only the first travels into the target.
    const within = rec(7, 'b', 'c', SOURCE);
    const away = rec(8, 'm', 'n', 5);
    disk.engines
      .get(SOURCE)
      .applyBatch([], disk.engines.get(SOURCE).applyState(), undefined, [within, away]);
    const p = prepare();
    source.applyCommitted([p]);
    target.applyCommitted([commit(p.index)]);
    assert.deepEqual(disk.engines.get(TARGET).mergedRecords(), [
      { ...rec(SOURCE, '', 'm', TARGET), commit: p.index },
      within,
    ]);
    disk.close();
  });

  test('a lagging source replica is caught up from the carried entries first', (t) => {
    const { disk, source, target } = setup(tempDir(t));
    // This replica has not applied the source's last write nor the prepare.
    const late = puts(SOURCE, ['c'], 4);
    const p = prepare(source.appliedIndex);
    target.applyCommitted([commit(p.index, [late, p])]);
    assert.equal(source.appliedIndex, p.index);
    assert.deepEqual(disk.rows(TARGET), ['a=v-a', 'c=v-c', 'g=v-g', 'm=v-m', 'z=v-z']);
    // Raft hands the same entries to the source later: nothing is applied twice.
    source.applyCommitted([late, p]);
    disk.close();
  });

  test('entries between its apply index and the carried ones come from its own log', (t) => {
    const { disk, source, target } = setup(tempDir(t));
    // This replica has the write in its log (it matched) but has not applied it; the
    // CommitMerge carries only what follows minIndex.
    const inLog = puts(SOURCE, ['d'], 6);
    // (The log also holds the applied entry before it, as a real log would.)
    const applied = {
      index: inLog.index - 1,
      term: 6,
      type: EntryType.Normal,
      data: Buffer.alloc(0),
    };
    disk.logEngine.write(new RaftLogWriteBatch().append(SOURCE, [applied, inLog]));
    const p = prepare(inLog.index);
    target.applyCommitted([commit(p.index, [p])]);
    assert.equal(source.appliedIndex, p.index);
    assert.deepEqual(disk.rows(TARGET), ['a=v-a', 'd=v-d', 'g=v-g', 'm=v-m', 'z=v-z']);
    disk.close();
  });

  test('a CommitMerge waits while its source replica copies a split off the loop', async (t) => {
    // The source [m, ) splits at t and then prepares to merge into the target [, m). This
    // replica of the source applied the split, whose copy runs off the loop, and holds the
    // PrepareMerge behind it, when the target's CommitMerge comes: it cannot catch the
    // source up now (the store simulation's seed 200429 stopped a store here).
    next.clear();
    const disk = new Disk(tempDir(t));
    t.after(() => disk.close());
    const held = heldSplitCopier();
    disk.loader.splitCopier = held.copier;
    const tgt = region(TARGET, '', 'm');
    const src = region(SOURCE, 'm', '');
    const target = disk.loader.createInitialPeer(tgt);
    const source = disk.loader.createInitialPeer(src);
    disk.peers.set(TARGET, target);
    disk.peers.set(SOURCE, source);
    target.applyCommitted([puts(TARGET, ['a'], 1)]);
    source.applyCommitted([puts(SOURCE, ['n', 'u'], 2)]);
    const split = admin(
      SOURCE,
      { confVer: 1, version: 1 },
      {
        kind: 'batchSplit',
        splits: [{ splitKey: Buffer.from('t'), newRegionId: 5, newPeerIds: [51, 52, 53] }],
      },
    );
    const p = admin(
      SOURCE,
      { confVer: 1, version: 2 },
      { kind: 'prepareMerge', minIndex: split.index, target: tgt },
    );
    source.applyCommitted([split, p]);
    assert.ok(held.waiting(), 'the split is copied off the loop');
    assert.equal(source.merging(), undefined, 'the prepare waits behind the split');

    const prepared = { ...src, endKey: Buffer.from('t'), epoch: { confVer: 2, version: 3 } };
    const c = admin(
      TARGET,
      { confVer: 1, version: 1 },
      { kind: 'commitMerge', source: prepared, commit: p.index, entries: [p] },
    );
    const after = puts(TARGET, ['b'], 3, { confVer: 1, version: 4 });
    target.applyCommitted([c, after]);
    assert.equal(target.appliedIndex, c.index - 1, 'the CommitMerge and what follows wait');
    assert.deepEqual(disk.rows(TARGET), ['a=v-a']);
    assert.equal(target.applyHeld(), false, 'still waiting');

    held.release();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(source.merging()?.commit, p.index, 'the split done, the prepare applied');
    assert.equal(target.applyHeld(), true);
    assert.equal(target.appliedIndex, after.index);
    assert.deepEqual(disk.rows(TARGET), ['a=v-a', 'b=v-b', 'n=v-n']);
    assert.deepEqual(target.region.endKey, Buffer.from('t'));
  });

  test('a CommitMerge at another target epoch is refused and changes nothing', (t) => {
    const { disk, source, target } = setup(tempDir(t));
    const p = prepare();
    source.applyCommitted([p]);
    const cmd = commit(p.index);
    target.applyCommitted([
      admin(
        TARGET,
        { confVer: 1, version: 1 },
        {
          kind: 'batchSplit',
          splits: [{ splitKey: Buffer.from('t'), newRegionId: 5, newPeerIds: [51, 52, 53] }],
        },
      ),
    ]);
    // The CommitMerge was stamped with the recorded epoch, the split moved it on.
    const shifted = { ...cmd, index: next.get(TARGET)! };
    target.applyCommitted([shifted]);
    assert.deepEqual(outcome(target), []);
    assert.equal(source.isMergedAway(), false);
    assert.deepEqual(disk.rows(TARGET), ['m=v-m'], 'the target only lost its split half');
    disk.close();
  });

  test('RollbackMerge lifts the fence with version + 1; writes apply again', (t) => {
    const { disk, source } = setup(tempDir(t));
    const p = prepare();
    source.applyCommitted([p]);
    source.applyCommitted([
      admin(SOURCE, PREPARED_EPOCH, { kind: 'rollbackMerge', commit: p.index }),
    ]);
    outcome(source);
    assert.equal(source.merging(), undefined);
    assert.deepEqual(source.region.epoch, { confVer: 2, version: 3 });
    source.applyCommitted([puts(SOURCE, ['b'], 5, { confVer: 2, version: 3 })]);
    assert.deepEqual(disk.rows(SOURCE), ['a=v-a', 'b=v-b', 'g=v-g']);
    source.checkRequest(undefined, false);
    // A rollback of another prepare is refused.
    source.applyCommitted([
      admin(SOURCE, source.region.epoch, { kind: 'rollbackMerge', commit: 99 }),
    ]);
    assert.deepEqual(source.region.epoch, { confVer: 2, version: 3 });
    disk.close();
  });
});

describe('merge apply: a lagging replica catching up', () => {
  test('PrepareMerge, RollbackMerge and a later write in ONE apply batch end as on its peers', (t) => {
    // A replica that was cut off applies the whole run at once when it catches up: the
    // rollback must see the fence the prepare just set, or it is refused, the version
    // stays behind and every later write is refused as stale: the replica diverges.
    const { disk, source } = setup(tempDir(t));
    const p = prepare();
    source.applyCommitted([
      p,
      admin(SOURCE, PREPARED_EPOCH, { kind: 'rollbackMerge', commit: p.index }),
      puts(SOURCE, ['b'], 5, { confVer: 2, version: 3 }),
    ]);
    assert.deepEqual(
      outcome(source).map((o) => o.kind),
      ['prepared', 'rolledBack'],
    );
    assert.equal(source.merging(), undefined);
    assert.deepEqual(source.region.epoch, { confVer: 2, version: 3 });
    assert.deepEqual(disk.rows(SOURCE), ['a=v-a', 'b=v-b', 'g=v-g']);
    disk.close();
  });
});

describe('merge apply: a crash at each step, then restart', () => {
  for (const fp of ['merge_copy_before', 'merge_copy_after'] as const) {
    test(`${fp}: both Regions load, the source still fenced; the replay finishes it`, (t) => {
      const { disk, source, target } = setup(tempDir(t));
      const late = puts(SOURCE, ['c'], 4);
      const p = prepare(source.appliedIndex);
      const c = commit(p.index, [late, p]);
      setFailpoint(fp, 'return');
      assert.throws(() => target.applyCommitted([c]), /failpoint/);
      clearFailpoints();
      const peers = disk.restart();
      assert.deepEqual(
        peers.map((x) => x.regionId),
        [SOURCE, TARGET],
      );
      const [s, tg] = peers;
      assert.equal(s!.merging()!.commit, p.index, 'the catch-up was committed before the copy');
      assert.equal(tg!.appliedIndex, c.index - 1, 'the CommitMerge is replayed from the log');
      assert.equal(tg!.region.epoch.version, 1);
      tg!.applyCommitted([c]);
      assert.deepEqual(disk.rows(TARGET), ['a=v-a', 'c=v-c', 'g=v-g', 'm=v-m', 'z=v-z']);
      disk.close();
    });
  }

  test('merge_target_after: the merge is done; restart destroys the source replica', (t) => {
    const { disk, source, target } = setup(tempDir(t));
    const p = prepare();
    source.applyCommitted([p]);
    setFailpoint('merge_target_after', 'return');
    assert.throws(() => target.applyCommitted([commit(p.index)]), /failpoint/);
    clearFailpoints();
    const peers = disk.restart();
    assert.deepEqual(
      peers.map((x) => x.regionId),
      [TARGET],
    );
    assert.deepEqual(disk.loader.destroyedAtLoad, [SOURCE]);
    assert.ok(disk.logEngine.tombstone(SOURCE), 'the source is tombstoned');
    assert.equal(disk.engines.get(SOURCE).exists(), false);
    assertMerged(disk);
    disk.close();
  });
});

// The Storage contract of the Raft core, run against MemoryStorage (the reference) and
// against the SQLite log engine's Region view: with its default cache, with a cache so
// small that reads cross from disk into the cache, and reopened after every write so
// every read comes cold from disk. Cases follow etcd-io/raft's storage_test.go.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  ConfState,
  Entry,
  EntryType,
  HardState,
  InvariantError,
  MemoryStorage,
  SnapshotMetadata,
  SnapshotOutOfDateError,
  Storage,
  UnavailableError,
  emptyConfState,
  entrySize,
} from '../../src/raft/index.js';
import { RaftLogEngine, RaftLogWriteBatch } from '../../src/storage/index.js';
import { tempDir } from './tmp.js';

interface Subject {
  storage(): Storage;
  append(ents: Entry[]): void;
  compact(i: number): void;
  applySnapshot(meta: SnapshotMetadata): void;
  setHardState(hs: HardState): void;
}

type Factory = (t: TestContext) => Subject;

function memory(): Subject {
  const ms = new MemoryStorage();
  return {
    storage: () => ms,
    append: (ents) => ms.append(ents),
    compact: (i) => ms.compact(i),
    applySnapshot: (metadata) => ms.applySnapshot({ data: new Uint8Array(0), metadata }),
    setHardState: (hs) => ms.setHardState(hs),
  };
}

function sqlite(cache: { maxEntries: number } | undefined, reopen: boolean): Factory {
  return (t) => {
    const dir = tempDir(t);
    const REGION = 7;
    let engine = RaftLogEngine.open(dir, { cache });
    t.after(() => engine.close());
    const write = (fill: (b: RaftLogWriteBatch) => void): void => {
      const b = new RaftLogWriteBatch();
      // Another Region in the same batch must not disturb this one.
      b.append(99, [{ index: 1, term: 1, type: EntryType.Normal, data: Buffer.from('x') }]);
      b.destroyRegion(99);
      fill(b);
      engine.write(b);
      if (reopen) {
        engine.close();
        engine = RaftLogEngine.open(dir, { cache });
      }
    };
    return {
      storage: () => engine.region(REGION),
      append: (ents) => write((b) => b.append(REGION, ents)),
      compact: (i) => write((b) => b.compact(REGION, i)),
      applySnapshot: (m) => write((b) => b.applySnapshot(REGION, m)),
      setHardState: (hs) => write((b) => b.setHardState(REGION, hs)),
    };
  };
}

const subjects: [string, Factory][] = [
  ['MemoryStorage', memory],
  ['SQLite view', sqlite(undefined, false)],
  ['SQLite view, 2-entry cache', sqlite({ maxEntries: 2 }, false)],
  ['SQLite view, reopened after each write', sqlite(undefined, true)],
];

function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: EntryType.Normal, data: Buffer.from(data) };
}

function cs(voters: number[]): ConfState {
  return { ...emptyConfState(), voters };
}

/** A log [3,3] (dummy) [4,4] [5,5] ...: a snapshot at 3, then entries. */
function seed(s: Subject, terms: number[], data: string[] = []): void {
  s.applySnapshot({ index: 3, term: 3, confState: cs([1, 2, 3]) });
  s.append(terms.map((term, k) => ent(4 + k, term, data[k] ?? '')));
}

function plain(ents: Entry[]): [number, number, number, string][] {
  return ents.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString()]);
}

for (const [name, make] of subjects) {
  describe(`Storage contract: ${name}`, () => {
    test('an empty storage has only the dummy entry', (t) => {
      const st = make(t).storage();
      assert.equal(st.firstIndex(), 1);
      assert.equal(st.lastIndex(), 0);
      assert.equal(st.term(0), 0);
      assert.throws(() => st.term(1), UnavailableError);
      assert.throws(() => st.entries(1, 1, Infinity), UnavailableError);
      assert.throws(() => st.entries(0, 1, Infinity), CompactedError);
      assert.deepEqual(st.initialState().hardState, { term: 0, vote: 0, commit: 0 });
    });

    test('term', (t) => {
      const s = make(t);
      seed(s, [4, 5]);
      const st = s.storage();
      assert.throws(() => st.term(2), CompactedError);
      assert.equal(st.term(3), 3);
      assert.equal(st.term(4), 4);
      assert.equal(st.term(5), 5);
      assert.throws(() => st.term(6), UnavailableError);
    });

    test('entries with bounds and size limits', (t) => {
      const s = make(t);
      seed(s, [4, 5, 6], ['a', 'bbbb', 'cccccccc']);
      const st = s.storage();
      const [e4, e5, e6] = [ent(4, 4, 'a'), ent(5, 5, 'bbbb'), ent(6, 6, 'cccccccc')];
      const sz = (e: Entry) => entrySize(e);
      assert.throws(() => st.entries(2, 6, Infinity), CompactedError);
      assert.throws(() => st.entries(3, 4, Infinity), CompactedError);
      assert.throws(() => st.entries(4, 8, Infinity), UnavailableError);
      assert.deepEqual(plain(st.entries(4, 5, Infinity)), plain([e4]));
      assert.deepEqual(plain(st.entries(4, 7, Infinity)), plain([e4, e5, e6]));
      assert.deepEqual(plain(st.entries(5, 7, Infinity)), plain([e5, e6]));
      assert.deepEqual(plain(st.entries(6, 7, Infinity)), plain([e6]));
      assert.deepEqual(plain(st.entries(4, 4, Infinity)), []);
      // At least one entry, even if it alone exceeds the limit.
      assert.deepEqual(plain(st.entries(4, 7, 0)), plain([e4]));
      assert.deepEqual(plain(st.entries(4, 7, sz(e4) + sz(e5))), plain([e4, e5]));
      assert.deepEqual(plain(st.entries(4, 7, sz(e4) + sz(e5) + sz(e6) / 2)), plain([e4, e5]));
      assert.deepEqual(plain(st.entries(4, 7, sz(e4) + sz(e5) + sz(e6) - 1)), plain([e4, e5]));
      assert.deepEqual(plain(st.entries(4, 7, sz(e4) + sz(e5) + sz(e6))), plain([e4, e5, e6]));
      assert.deepEqual(plain(st.entries(5, 7, sz(e5))), plain([e5]));
    });

    test('first and last index', (t) => {
      const s = make(t);
      seed(s, [4, 5]);
      assert.equal(s.storage().firstIndex(), 4);
      assert.equal(s.storage().lastIndex(), 5);
      s.append([ent(6, 5)]);
      assert.equal(s.storage().lastIndex(), 6);
      s.compact(4);
      assert.equal(s.storage().firstIndex(), 5);
      assert.equal(s.storage().lastIndex(), 6);
    });

    test('compaction keeps the compacted entry as the dummy', (t) => {
      const s = make(t);
      seed(s, [4, 5, 6]);
      s.compact(5);
      const st = s.storage();
      assert.equal(st.firstIndex(), 6);
      assert.equal(st.term(5), 5);
      assert.throws(() => st.term(4), CompactedError);
      assert.throws(() => st.entries(5, 7, Infinity), CompactedError);
      assert.deepEqual(plain(st.entries(6, 7, Infinity)), plain([ent(6, 6)]));
      s.compact(6);
      assert.equal(s.storage().firstIndex(), 7);
      assert.equal(s.storage().lastIndex(), 6);
      assert.equal(s.storage().term(6), 6);
      assert.throws(() => s.storage().entries(7, 7, Infinity), UnavailableError);
      assert.throws(() => s.compact(7), InvariantError);
    });

    const appendCases: [string, Entry[], [number, number][]][] = [
      [
        'the same entries',
        [ent(3, 3), ent(4, 4), ent(5, 5)],
        [
          [4, 4],
          [5, 5],
        ],
      ],
      [
        'a conflicting suffix',
        [ent(3, 3), ent(4, 6), ent(5, 6)],
        [
          [4, 6],
          [5, 6],
        ],
      ],
      [
        'one more entry',
        [ent(3, 3), ent(4, 4), ent(5, 5), ent(6, 5)],
        [
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      ],
      ['a compacted prefix then a conflict', [ent(2, 3), ent(3, 3), ent(4, 5)], [[4, 5]]],
      ['a conflict in the middle', [ent(4, 5)], [[4, 5]]],
      [
        'entries at the end',
        [ent(6, 5)],
        [
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      ],
      [
        'only compacted entries',
        [ent(1, 1), ent(2, 2)],
        [
          [4, 4],
          [5, 5],
        ],
      ],
    ];
    for (const [what, ents, want] of appendCases) {
      test(`append ${what}`, (t) => {
        const s = make(t);
        seed(s, [4, 5]);
        s.append(ents);
        const st = s.storage();
        const got = st.entries(st.firstIndex(), st.lastIndex() + 1, Infinity);
        assert.deepEqual(
          got.map((e) => [e.index, e.term]),
          want,
        );
        for (const [i, term] of want) assert.equal(st.term(i), term);
      });
    }

    test('append leaving a gap is refused', (t) => {
      const s = make(t);
      seed(s, [4, 5]);
      assert.throws(() => s.append([ent(7, 5)]), InvariantError);
      assert.equal(s.storage().lastIndex(), 5);
    });

    test('snapshot replaces the log', (t) => {
      const s = make(t);
      seed(s, [4, 5, 5]);
      const meta = { index: 8, term: 6, confState: cs([1, 2, 4]) };
      s.applySnapshot(meta);
      const st = s.storage();
      assert.equal(st.firstIndex(), 9);
      assert.equal(st.lastIndex(), 8);
      assert.equal(st.term(8), 6);
      assert.throws(() => st.term(7), CompactedError);
      assert.throws(() => st.entries(9, 9, Infinity), UnavailableError);
      assert.deepEqual(st.snapshot().metadata, meta);
      assert.deepEqual(st.initialState().confState, meta.confState);
      assert.throws(
        () => s.applySnapshot({ index: 8, term: 6, confState: cs([1]) }),
        SnapshotOutOfDateError,
      );
      s.append([ent(9, 6, 'after')]);
      assert.deepEqual(plain(s.storage().entries(9, 10, Infinity)), plain([ent(9, 6, 'after')]));
    });

    test('hard state', (t) => {
      const s = make(t);
      s.setHardState({ term: 3, vote: 2, commit: 0 });
      seed(s, [4]);
      s.setHardState({ term: 4, vote: 1, commit: 4 });
      assert.deepEqual(s.storage().initialState().hardState, { term: 4, vote: 1, commit: 4 });
    });

    test('conf change entries keep their type and payload', (t) => {
      const s = make(t);
      seed(s, []);
      const cc: Entry = {
        index: 4,
        term: 3,
        type: EntryType.ConfChange,
        data: Buffer.from([0, 1, 255]),
      };
      s.append([cc, ent(5, 3, '')]);
      assert.deepEqual(plain(s.storage().entries(4, 6, Infinity)), plain([cc, ent(5, 3, '')]));
    });
  });
}

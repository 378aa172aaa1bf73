import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdAllocator } from '../../src/pd/id_allocator.js';
import { PdMetaStore, type IdEndStore } from '../../src/pd/meta_store.js';
import { tempDir } from './helpers.js';

test('ids are unique and increasing within one run', (t) => {
  const meta = PdMetaStore.open(tempDir(t));
  t.after(() => meta.close());
  const ids = new IdAllocator(meta, 10);
  const got = ids.allocMany(95);
  assert.equal(got[0], 1);
  for (let i = 1; i < got.length; i++) assert.equal(got[i], got[i - 1]! + 1);
  assert.equal(meta.loadIdEnd(), 100);
});

test('the batch end is persisted before any id below it is handed out', () => {
  let end = 0;
  const saves: number[] = [];
  const store: IdEndStore = {
    loadIdEnd: () => end,
    saveIdEnd: (e) => {
      end = e;
      saves.push(e);
    },
  };
  const ids = new IdAllocator(store, 3);
  for (let i = 0; i < 10; i++) {
    const id = ids.alloc();
    assert.ok(id <= end, `id ${id} handed out beyond persisted end ${end}`);
  }
  assert.deepEqual(saves, [3, 6, 9, 12]);
});

test('ids never repeat across restarts and crashes', (t) => {
  const dir = tempDir(t);
  const seen = new Set<number>();
  for (let run = 0; run < 6; run++) {
    const meta = PdMetaStore.open(dir);
    const ids = new IdAllocator(meta, 7);
    // Use part of a batch, a whole batch, or nothing before "crashing".
    for (let i = 0; i < [3, 7, 0, 15, 1, 8][run]!; i++) {
      const id = ids.alloc();
      assert.ok(!seen.has(id), `id ${id} repeated in run ${run}`);
      seen.add(id);
    }
    if (run % 2 === 0) meta.close(); // odd runs never close: a crash
  }
  assert.equal(seen.size, 3 + 7 + 15 + 1 + 8);
});

test('a bad batch step is refused', () => {
  const store: IdEndStore = { loadIdEnd: () => 0, saveIdEnd: () => {} };
  assert.throws(() => new IdAllocator(store, 0), RangeError);
});

// Statement journals stay in memory (sqlite.ts, temp_store = MEMORY). A statement that
// writes several rows inside a transaction journals each page it changes, so that it can
// be taken back alone; SQLite's default spills that journal to a temporary file past
// 64 KiB and keeps writing there, two system calls per page. Under puts at c=256 each
// store wrote half as many bytes to such a file as to its WALs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REGION_SCHEMA, RegionStatements } from '../../src/storage/region_schema.js';
import { SyncMode, openDatabase } from '../../src/storage/sqlite.js';
import { tempDir } from './tmp.js';

/** SQLite's temporary files open in this process (its names start etilqs_). */
function sqliteTempFiles(): string[] {
  return fs
    .readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.includes('etilqs_'));
}

const key = (i: number) => Buffer.from(`bench/${String(i).padStart(8, '0')}`);

test(
  'a write statement that changes rows on many pages journals them in memory',
  { skip: process.platform !== 'linux' && 'reads /proc/self/fd' },
  (t) => {
    const db = openDatabase(path.join(tempDir(t), 'r.sqlite'), { sync: SyncMode.Normal });
    t.after(() => db.close());
    db.exec(REGION_SCHEMA);
    const st = new RegionStatements(db);
    st.transaction(() => {
      for (let i = 0; i < 10_000; i++) st.put('raw').run(key(i), Buffer.alloc(100, 1));
    });
    // An apply's shape: a row of local state, then a run of puts as one 64-row statement
    // (batched_writes.ts), here rows 150 apart, each changed in place on a page of its own.
    const args: Buffer[] = [];
    for (let i = 0; i < 64; i++) args.push(key(i * 150), Buffer.alloc(100, 2));
    st.transaction(() => {
      st.putLocal().run('apply', '{"appliedIndex":2,"appliedTerm":1}');
      st.putRows('raw', 64).run(...args);
      assert.deepEqual(sqliteTempFiles(), [], 'the statement journal spilled to a file');
    });
    assert.deepEqual(st.get('raw').get(key(150)), Buffer.alloc(100, 2));
  },
);

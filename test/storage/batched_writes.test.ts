// Batched apply writes: runs of puts go out as multi-row statements, and a batch's effect
// is exactly that of its ops applied one at a time, in order (repeated keys, deletes and
// range deletes between puts, several tables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeOps } from '../../src/storage/batched_writes.js';
import { RegionEngine, TABLES, type Table, type WriteOp } from '../../src/storage/index.js';
import type { RegionStatements } from '../../src/storage/region_schema.js';
import { tempDir } from './tmp.js';

/** A deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function randomOps(r: () => number, n: number): WriteOp[] {
  const key = () => Buffer.from(`k${Math.floor(r() * 40)}`);
  const tables: Table[] = ['raw', 'lock', 'write'];
  const ops: WriteOp[] = [];
  let table: Table = 'raw';
  while (ops.length < n) {
    if (r() < 0.1) table = tables[Math.floor(r() * tables.length)]!;
    const p = r();
    if (p < 0.85) {
      ops.push({ op: 'put', table, key: key(), value: Buffer.from(`v${ops.length}`) });
    } else if (p < 0.97) {
      ops.push({ op: 'delete', table, key: key() });
    } else {
      const [a, b] = [key(), key()].sort(Buffer.compare);
      ops.push({ op: 'deleteRange', table, start: a!, end: r() < 0.3 ? Buffer.alloc(0) : b! });
    }
  }
  return ops;
}

function dump(eng: RegionEngine): string[] {
  const out: string[] = [];
  for (const t of TABLES)
    for (const kv of eng.scan({ table: t })) out.push(`${t}/${kv.key}=${kv.value}`);
  return out;
}

test('a batch writes what its ops one at a time would, for random mixes of runs', (t) => {
  const dir = tempDir(t);
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed);
    const batched = new RegionEngine(dir, 2 * seed);
    const single = new RegionEngine(dir, 2 * seed + 1);
    try {
      let index = 5;
      for (let round = 0; round < 4; round++) {
        const ops = randomOps(r, 1 + Math.floor(r() * 300));
        index++;
        batched.applyBatch(ops, { appliedIndex: index, appliedTerm: 1 });
        for (const o of ops) single.applyBatch([o], { appliedIndex: index, appliedTerm: 1 });
      }
      assert.deepEqual(dump(batched), dump(single), `seed ${seed}`);
      assert.ok(dump(batched).length > 0);
    } finally {
      batched.close();
      single.close();
    }
  }
});

test('a run of puts uses 64-, 16-, 4- and 1-row statements; a repeated key keeps its last value', () => {
  const runs: { table: string; rows: number; args: Buffer[] }[] = [];
  const statement = (table: string, rows: number) => ({
    run: (...args: Buffer[]) => {
      assert.equal(args.length, rows * 2);
      runs.push({ table, rows, args });
    },
  });
  // The layer below: prepared statements, recorded instead of run.
  const st = {
    put: (t: string) => statement(t, 1),
    putRows: (t: string, rows: number) => statement(t, rows),
    del: () => assert.fail('no deletes here'),
    delRange: () => assert.fail('no deletes here'),
  } as unknown as RegionStatements;
  const ops: WriteOp[] = [];
  for (let i = 0; i < 86; i++)
    ops.push({ op: 'put', table: 'raw', key: Buffer.from(`k${i}`), value: Buffer.from(`a${i}`) });
  ops.push({ op: 'put', table: 'raw', key: Buffer.from('k3'), value: Buffer.from('last') });
  ops.push({ op: 'put', table: 'lock', key: Buffer.from('x'), value: Buffer.from('L') });
  writeOps(st, ops);
  // 86 distinct keys: 64 + 16 + 4 + 1 + 1; then the lock put alone.
  assert.deepEqual(
    runs.map((r) => `${r.table}:${r.rows}`),
    ['raw:64', 'raw:16', 'raw:4', 'raw:1', 'raw:1', 'lock:1'],
  );
  const written = new Map<string, string>();
  for (const r of runs.filter((x) => x.table === 'raw'))
    for (let i = 0; i < r.args.length; i += 2)
      written.set(r.args[i]!.toString(), r.args[i + 1]!.toString());
  assert.equal(written.size, 86);
  assert.equal(written.get('k3'), 'last');
  assert.equal(written.get('k85'), 'a85');
});

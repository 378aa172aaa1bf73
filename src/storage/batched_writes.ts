// A write batch to a Region engine as few SQLite statement runs as it can be: each run
// of consecutive puts to one table goes out as multi-row INSERT OR REPLACE statements
// (chunks of PUT_CHUNKS rows, each statement prepared once and reused), instead of one
// statement round per key — for the small values of a busy store, the per-statement
// cost of better-sqlite3 and SQLite's VDBE setup was most of apply's time. Deletes and
// range deletes keep their own statements, in order, so the batch's effect is exactly
// the ops applied one by one.
import { asBuffer } from './sqlite.js';
import type { Table, RegionStatements } from './region_schema.js';
import type { WriteOp } from './region_engine.js';

/** Rows per multi-row put statement, largest first; 1 ends every remainder. */
export const PUT_CHUNKS = [64, 16, 4, 1] as const;

/**
 * Applies ops in order. Inside a run of puts to one table a key written twice keeps its
 * last value (as it would one by one): the run is de-duplicated before it is written,
 * so no statement carries a key twice.
 */
export function writeOps(st: RegionStatements, ops: readonly WriteOp[]): void {
  let i = 0;
  while (i < ops.length) {
    const o = ops[i]!;
    if (o.op !== 'put') {
      writeOne(st, o);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < ops.length && ops[j]!.op === 'put' && ops[j]!.table === o.table) j++;
    if (j - i === 1) st.put(o.table).run(asBuffer(o.key), asBuffer(o.value));
    else writePutRun(st, o.table, ops, i, j);
    i = j;
  }
}

function writePutRun(
  st: RegionStatements,
  table: Table,
  ops: readonly WriteOp[],
  from: number,
  to: number,
): void {
  // Last value per key, in first-seen order (a Map keeps insertion order).
  const rows = new Map<string, [Buffer, Buffer]>();
  for (let k = from; k < to; k++) {
    const o = ops[k] as Extract<WriteOp, { op: 'put' }>;
    const key = asBuffer(o.key);
    const slot = key.toString('latin1');
    rows.delete(slot);
    rows.set(slot, [key, asBuffer(o.value)]);
  }
  const flat: Buffer[] = [];
  for (const [k, v] of rows.values()) flat.push(k, v);
  let at = 0;
  const n = rows.size;
  for (const chunk of PUT_CHUNKS) {
    const stmt = n - at / 2 >= chunk ? st.putRows(table, chunk) : undefined;
    while (stmt && (flat.length - at) / 2 >= chunk) {
      stmt.run(...flat.slice(at, at + chunk * 2));
      at += chunk * 2;
    }
  }
  if (at !== flat.length) throw new Error(`put run wrote ${at / 2} of ${n} rows`);
}

function writeOne(st: RegionStatements, o: WriteOp): void {
  switch (o.op) {
    case 'put':
      st.put(o.table).run(asBuffer(o.key), asBuffer(o.value));
      return;
    case 'delete':
      st.del(o.table).run(asBuffer(o.key));
      return;
    case 'deleteRange':
      if (o.end.length > 0) st.delRange(o.table, true).run(asBuffer(o.start), asBuffer(o.end));
      else st.delRange(o.table, false).run(asBuffer(o.start));
      return;
  }
}

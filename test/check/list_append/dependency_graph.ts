// Infers the dependency graph of a list-append history (Adya's DSG, as Elle infers it):
//   ww  Ti -> Tj  Tj appended the value right after Ti's in a key's version order;
//   wr  Ti -> Tj  Tj read a list whose last element Ti appended;
//   rw  Ti -> Tj  Ti read a list that Tj's append extended (Ti did not see Tj's write).
// A key's version order is the longest list any committed read returned; every other
// read must be a prefix of it, otherwise the history admits no order at all.
// Non-cyclic anomalies are found on the way: reads of aborted writes (G1a), reads of a
// transaction's intermediate state (G1b), reads of values nobody appended, duplicates,
// and reads that do not show the reader's own earlier appends.
import type { Txn } from './history.js';

export type EdgeKind = 'ww' | 'wr' | 'rw';

export interface Edge {
  from: number;
  to: number;
  kind: EdgeKind;
  key: string;
  /** The value whose order or visibility gave the edge. */
  value: number;
}

export interface NonCyclicAnomaly {
  type: 'G1a' | 'G1b' | 'incompatible-order' | 'garbage-read' | 'duplicate' | 'internal';
  txn: number;
  key: string;
  detail: string;
}

export interface DependencyGraph {
  /** Transactions that may have committed (ok and info): the graph's nodes. */
  nodes: Set<number>;
  /** Outgoing edges per transaction (at most one per from, to, kind). */
  out: Map<number, Edge[]>;
  anomalies: NonCyclicAnomaly[];
}

interface Writer {
  txn: Txn;
  /** Index of this append among the txn's appends to the key. */
  index: number;
  /** How many appends the txn made to the key. */
  count: number;
}

/** The part of a read that came from other transactions (see internal reads below). */
interface ExternalRead {
  txn: Txn;
  key: string;
  list: number[];
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isPrefix(p: readonly number[], of: readonly number[]): boolean {
  return p.length <= of.length && p.every((x, i) => x === of[i]);
}

/** The first value a list holds twice (a Set, not indexOf: lists grow to thousands). */
function firstRepeat(list: readonly number[]): number | undefined {
  const seen = new Set<number>();
  for (const v of list) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

export function buildDependencyGraph(history: readonly Txn[]): DependencyGraph {
  const anomalies: NonCyclicAnomaly[] = [];
  const ids = new Set<number>();
  for (const t of history) {
    if (ids.has(t.id)) throw new Error(`transaction id ${t.id} appears twice`);
    ids.add(t.id);
  }

  // Who appended each (key, value). The workload makes them unique; a repeat is a bug in
  // the test, not in the database.
  const writers = new Map<string, Map<number, Writer>>();
  for (const t of history) {
    const counts = new Map<string, number>();
    for (const op of t.ops)
      if (op.f === 'append') counts.set(op.key, (counts.get(op.key) ?? 0) + 1);
    const seen = new Map<string, number>();
    for (const op of t.ops) {
      if (op.f !== 'append') continue;
      let byValue = writers.get(op.key);
      if (!byValue) writers.set(op.key, (byValue = new Map()));
      if (byValue.has(op.value)) {
        throw new Error(`value ${op.value} appended to ${op.key} twice (T${t.id})`);
      }
      const index = seen.get(op.key) ?? 0;
      seen.set(op.key, index + 1);
      byValue.set(op.value, { txn: t, index, count: counts.get(op.key)! });
    }
  }

  // The external reads of committed transactions. A read after the transaction's own
  // appends to the key must end with exactly those appends (it reads its own writes);
  // what precedes them is what it saw of others.
  const reads: ExternalRead[] = [];
  for (const t of history) {
    if (t.status !== 'ok') continue;
    const own = new Map<string, number[]>();
    for (const op of t.ops) {
      if (op.f === 'append') {
        const l = own.get(op.key) ?? [];
        l.push(op.value);
        own.set(op.key, l);
        continue;
      }
      if (op.value === null) continue;
      const mine = own.get(op.key) ?? [];
      const tail = op.value.slice(op.value.length - mine.length);
      if (mine.length > 0 && (op.value.length < mine.length || !sameList(tail, mine))) {
        anomalies.push({
          type: 'internal',
          txn: t.id,
          key: op.key,
          detail: `read [${op.value.join(' ')}] after appending [${mine.join(' ')}]`,
        });
        continue;
      }
      reads.push({ txn: t, key: op.key, list: op.value.slice(0, op.value.length - mine.length) });
    }
  }

  // Per key: check each read, then take the longest as the version order.
  const order = new Map<string, number[]>();
  for (const r of reads) {
    const dup = firstRepeat(r.list);
    if (dup !== undefined) {
      anomalies.push({ type: 'duplicate', txn: r.txn.id, key: r.key, detail: `${dup} twice` });
    }
    for (const v of r.list) {
      const w = writers.get(r.key)?.get(v);
      if (!w) {
        anomalies.push({
          type: 'garbage-read',
          txn: r.txn.id,
          key: r.key,
          detail: `read ${v}, which no transaction appended`,
        });
      } else if (w.txn.status === 'fail') {
        anomalies.push({
          type: 'G1a',
          txn: r.txn.id,
          key: r.key,
          detail: `read ${v}, appended by aborted T${w.txn.id}`,
        });
      }
    }
    const last = r.list[r.list.length - 1];
    const lw = last === undefined ? undefined : writers.get(r.key)?.get(last);
    if (lw && lw.txn.id !== r.txn.id && lw.index < lw.count - 1) {
      anomalies.push({
        type: 'G1b',
        txn: r.txn.id,
        key: r.key,
        detail: `read ${last}, an intermediate append of T${lw.txn.id}`,
      });
    }
    const cur = order.get(r.key);
    if (!cur || r.list.length > cur.length) order.set(r.key, r.list);
  }
  for (const r of reads) {
    const longest = order.get(r.key)!;
    if (!isPrefix(r.list, longest)) {
      anomalies.push({
        type: 'incompatible-order',
        txn: r.txn.id,
        key: r.key,
        detail: `[${r.list.join(' ')}] is not a prefix of [${longest.join(' ')}]`,
      });
    }
  }

  const nodes = new Set(history.filter((t) => t.status !== 'fail').map((t) => t.id));
  const out = new Map<number, Edge[]>();
  const seenEdge = new Set<string>();
  const add = (from: number, to: number, kind: EdgeKind, key: string, value: number): void => {
    if (from === to || !nodes.has(from) || !nodes.has(to)) return;
    const id = `${from} ${to} ${kind}`;
    if (seenEdge.has(id)) return;
    seenEdge.add(id);
    const l = out.get(from) ?? [];
    l.push({ from, to, kind, key, value });
    out.set(from, l);
  };
  const writerOf = (key: string, v: number): Writer | undefined => writers.get(key)?.get(v);

  for (const [key, list] of order) {
    for (let i = 1; i < list.length; i++) {
      const a = writerOf(key, list[i - 1]!);
      const b = writerOf(key, list[i]!);
      if (a && b) add(a.txn.id, b.txn.id, 'ww', key, list[i]!);
    }
  }
  for (const r of reads) {
    const longest = order.get(r.key)!;
    // An incompatible read says nothing reliable about the order.
    if (!isPrefix(r.list, longest)) continue;
    const last = r.list[r.list.length - 1];
    const lastWriter = last === undefined ? undefined : writerOf(r.key, last);
    if (lastWriter) add(lastWriter.txn.id, r.txn.id, 'wr', r.key, last!);
    const next = longest[r.list.length];
    const nextWriter = next === undefined ? undefined : writerOf(r.key, next);
    // A read of an intermediate state (G1b, reported above) would also give an rw edge
    // back to the writer it read from: a second name for the same anomaly.
    if (nextWriter && nextWriter.txn !== lastWriter?.txn) {
      add(r.txn.id, nextWriter.txn.id, 'rw', r.key, next!);
    }
  }
  return { nodes, out, anomalies };
}

// A verbatim copy of test/check/linearizability.ts from the chaos branch (commit c49c2ed), the shared
// linearizability checker. Replace this folder by imports of test/check/ once both are merged.
// A linearizability checker after Porcupine (github.com/anishathalye/porcupine):
//
// - Wing & Gong's search (J. Parallel Distrib. Comput. 1993): walk the history's call and
//   return events in time order; at a call, try to linearize that operation now (its
//   output must be possible in the current state), remove it and start over from the
//   first remaining event; at a return whose operation is not yet linearized, the current
//   prefix is a dead end, so undo the last choice and try the next candidate.
// - Lowe's memoization ("Testing for linearizability", CCPE 2017): a (set of linearized
//   operations, state) pair reached once needs no second visit — whatever followed it
//   failed before. This turns the exponential search into one that is fast in practice.
// - P-compositionality (Lowe §5, Horn & Kroening): the model splits the history into
//   independent parts (one per key for RawKV), each searched on its own.
// - Indeterminate operations (output unknown) return at +Infinity: the search may
//   linearize them at any point after their call, including after everything else,
//   where their effect no longer matters — "it may or may not have happened".
import type { KvInput, KvOperation, KvOutput, Operation, Value } from './history.js';
import { kvRegisterModel, type Model } from './model.js';

export interface CheckOptions {
  /** Give up (result 'unknown') on a part whose search runs longer than this. */
  timeoutMs?: number;
}

export type Verdict = 'ok' | 'illegal' | 'unknown';

export interface PartResult<I, O> {
  key: string;
  verdict: Verdict;
  ops: Operation<I, O>[];
  /** For 'illegal': the longest linearizable prefix the search found, in order... */
  longestPrefix: Operation<I, O>[];
  /** ...and the operations that were candidates after it, none of which fit. */
  stuckOn: Operation<I, O>[];
}

export interface CheckResult<I, O> {
  verdict: Verdict;
  parts: number;
  /** Every part that is not 'ok', the smallest first. */
  failures: PartResult<I, O>[];
  elapsedMs: number;
}

interface Node {
  /** Index into the part's ops; -1 for the list head. */
  op: number;
  isCall: boolean;
  /** A call's return event. */
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

/** Events in time order, calls before returns at equal times (Porcupine's tie rule). */
function buildList(ops: readonly Operation<unknown, unknown>[]): Node {
  const events: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((op, i) => {
    events.push({ time: op.call, isCall: true, op: i });
    events.push({ time: op.ret, isCall: false, op: i });
  });
  events.sort((a, b) =>
    a.time !== b.time ? a.time - b.time : a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1,
  );
  const head: Node = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  const returns = new Map<number, Node>();
  let last = head;
  // Built back to front so that each call can point at its (later) return node.
  const nodes: Node[] = events.map((e) => ({
    op: e.op,
    isCall: e.isCall,
    match: undefined,
    prev: undefined,
    next: undefined,
  }));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.isCall) n.match = returns.get(n.op);
    else returns.set(n.op, n);
  }
  for (const n of nodes) {
    n.prev = last;
    last.next = n;
    last = n;
  }
  return head;
}

/** Take a call and its return out of the list. */
function lift(call: Node): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Put back what lift took out (in reverse order, so the neighbours are right again). */
function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

/**
 * The set of linearized operations, with an incrementally kept 64-bit Zobrist hash
 * (XOR of a random pair per member) so that a memo lookup costs O(1) instead of hashing
 * every word, as Porcupine does; equal hashes are confirmed by comparing the words.
 */
class Bitset {
  readonly words: Uint32Array;
  private h1 = 0;
  private h2 = 0;
  private readonly z1: Uint32Array;
  private readonly z2: Uint32Array;

  constructor(bits: number) {
    this.words = new Uint32Array(Math.ceil(bits / 32) || 1);
    this.z1 = new Uint32Array(bits);
    this.z2 = new Uint32Array(bits);
    let x = 0x9e3779b9;
    for (let i = 0; i < bits; i++) {
      x = splitmix32(x);
      this.z1[i] = x;
      x = splitmix32(x);
      this.z2[i] = x;
    }
  }
  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
    this.h1 ^= this.z1[i]!;
    this.h2 ^= this.z2[i]!;
  }
  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
    this.h1 ^= this.z1[i]!;
    this.h2 ^= this.z2[i]!;
  }
  hash(): string {
    return `${this.h1}:${this.h2}`;
  }
}

function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let t = a ^ (a >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The (linearized set, state) pairs already explored: Lowe's memoization. */
class Memo {
  private readonly seen = new Map<string, Uint32Array[]>();

  /** Records the pair; false if it was there already. */
  add(set: Bitset, stateHash: string): boolean {
    const key = `${set.hash()}|${stateHash}`;
    const bucket = this.seen.get(key);
    if (bucket === undefined) {
      this.seen.set(key, [set.words.slice()]);
      return true;
    }
    if (bucket.some((w) => sameWords(w, set.words))) return false;
    bucket.push(set.words.slice());
    return true;
  }
}

/** Search one part. Exported for tests that want a single part's verdict. */
export function checkPart<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  ops: Operation<I, O>[],
  deadline: number,
): PartResult<I, O> {
  const head = buildList(ops);
  const linearized = new Bitset(ops.length);
  const memo = new Memo();
  const calls: { node: Node; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let longest: number[] = [];
  let stuckOn = new Set<number>();
  /** Whether the stack is exactly `longest` (so a failed candidate now is "stuck"). */
  let atLongest = true;
  let iterations = 0;

  while (head.next !== undefined) {
    if ((++iterations & 0x3ff) === 0 && Date.now() > deadline) {
      return { key, verdict: 'unknown', ops, longestPrefix: [], stuckOn: [] };
    }
    const node = entry!;
    if (node.isCall) {
      const op = ops[node.op]!;
      const next = model.step(state, op.input, op.output);
      if (next !== undefined) {
        linearized.set(node.op);
        if (memo.add(linearized, model.hash(next))) {
          calls.push({ node, state });
          state = next;
          lift(node);
          entry = head.next;
          continue;
        }
        linearized.clear(node.op);
      }
      noteStuck(node.op);
      entry = node.next;
    } else {
      // A return whose operation is not linearized yet: this prefix cannot be extended.
      if (calls.length === 0) {
        return {
          key,
          verdict: 'illegal',
          ops,
          longestPrefix: longest.map((i) => ops[i]!),
          stuckOn: [...stuckOn].map((i) => ops[i]!),
        };
      }
      // The stack can never be `longest` again: the memo forbids the same set and state.
      atLongest = false;
      const top = calls.pop()!;
      state = top.state;
      linearized.clear(top.node.op);
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { key, verdict: 'ok', ops, longestPrefix: [], stuckOn: [] };

  // Remember the deepest prefix reached and which candidates failed right after it: that
  // is where a reader of the report should look.
  function noteStuck(op: number): void {
    if (calls.length > longest.length) {
      longest = calls.map((c) => c.node.op);
      stuckOn = new Set();
      atLongest = true;
    }
    if (atLongest) stuckOn.add(op);
  }
}

export function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  const t0 = Date.now();
  const deadline = t0 + (options.timeoutMs ?? Infinity);
  const parts = model.partition(history);
  const failures: PartResult<I, O>[] = [];
  // Smallest parts first: a violation in a small part is found (and read) fastest.
  parts.sort((a, b) => a.ops.length - b.ops.length || (a.key < b.key ? -1 : 1));
  for (const part of parts) {
    const r = checkPart(model, part.key, part.ops, deadline);
    if (r.verdict !== 'ok') failures.push(r);
  }
  const verdict: Verdict = failures.some((f) => f.verdict === 'illegal')
    ? 'illegal'
    : failures.length > 0
      ? 'unknown'
      : 'ok';
  failures.sort(
    (a, b) =>
      (a.verdict === 'illegal' ? 0 : 1) - (b.verdict === 'illegal' ? 0 : 1) ||
      a.ops.length - b.ops.length,
  );
  return { verdict, parts: parts.length, failures, elapsedMs: Date.now() - t0 };
}

/** RawKV: one register per key, get / put / delete / cas. */
export function checkKvHistory(
  history: readonly KvOperation[],
  options: CheckOptions = {},
): CheckResult<KvInput, KvOutput> {
  return checkHistory<Value, KvInput, KvOutput>(kvRegisterModel, history, options);
}

/**
 * A part's sub-history for people: one line per operation in call order, times as
 * recorded, the longest linearizable prefix numbered, and the operations
 * that could not come next marked.
 */
export function formatPart<S, I, O>(
  model: Model<S, I, O>,
  part: PartResult<I, O>,
  /** Lines kept before and after the ✗ operations of a long part; Infinity: all. */
  context = 12,
): string {
  const ops = [...part.ops].sort((a, b) => a.call - b.call || a.id - b.id);
  const order = new Map(part.longestPrefix.map((op, i) => [op.id, i + 1]));
  const stuck = new Set(part.stuckOn.map((op) => op.id));
  const time = (t: number) => (t === Infinity ? '∞' : t.toFixed(3)).padStart(10);
  const lines: string[] = [];
  lines.push(
    `key ${JSON.stringify(part.key)}: ${
      part.verdict === 'illegal' ? 'NOT linearizable' : 'undecided (search timed out)'
    } — ${ops.length} operations`,
  );
  if (part.verdict === 'illegal') {
    let state = model.init();
    for (const op of part.longestPrefix) state = model.step(state, op.input, op.output)!;
    lines.push(
      `  the longest linearizable prefix has ${part.longestPrefix.length} operations (#1..#${
        part.longestPrefix.length
      }) and leaves the register ${model.describeState(state)};`,
      `  no operation marked ✗ can come next.`,
    );
  }
  lines.push(`  ${'call'.padStart(10)} ${'return'.padStart(10)}`);
  // A long part is cut to the neighbourhood of the operations that could not come next.
  const stuckAt = ops.flatMap((op, i) => (stuck.has(op.id) ? [i] : []));
  let from = 0;
  let to = ops.length;
  if (stuckAt.length > 0 && ops.length > 2 * context + stuckAt.length) {
    from = Math.max(0, stuckAt[0]! - context);
    to = Math.min(ops.length, stuckAt[stuckAt.length - 1]! + context + 1);
  }
  if (from > 0) lines.push(`  … ${from} earlier operations`);
  for (const op of ops.slice(from, to)) {
    const mark = order.has(op.id) ? `#${order.get(op.id)}` : stuck.has(op.id) ? '✗' : '';
    const out =
      op.output === undefined
        ? `indeterminate${op.error ? ` (${op.error})` : ''}`
        : model.describeOutput(op.output);
    lines.push(
      `  ${time(op.call)} ${time(op.ret)}  client ${String(op.client).padEnd(4)} ${mark.padEnd(
        4,
      )} ${model.describeInput(op.input)} → ${out}  [op ${op.id}]`,
    );
  }
  if (to < ops.length) lines.push(`  … ${ops.length - to} later operations`);
  return lines.join('\n');
}

/** The report of a whole check: the verdict, and the smallest failing part in full. */
export function formatResult<S, I, O>(model: Model<S, I, O>, r: CheckResult<I, O>): string {
  if (r.verdict === 'ok') {
    return `linearizable: ${r.parts} keys checked in ${r.elapsedMs} ms`;
  }
  const illegal = r.failures.filter((f) => f.verdict === 'illegal').length;
  const unknown = r.failures.length - illegal;
  const head =
    `${r.verdict === 'illegal' ? 'NOT linearizable' : 'undecided'}: ` +
    `${illegal} of ${r.parts} keys not linearizable` +
    (unknown ? `, ${unknown} undecided (search timed out)` : '') +
    ` (${r.elapsedMs} ms); the smallest:`;
  return `${head}\n${formatPart(model, r.failures[0]!)}`;
}

export function formatKvResult(r: CheckResult<KvInput, KvOutput>): string {
  return formatResult(kvRegisterModel, r);
}

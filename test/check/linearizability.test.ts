// The RawKV linearizability checker against hand-made histories (each a known legal or
// illegal pattern), against a brute-force oracle on small random histories, and on a
// history the size of a chaos run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvInput, KvOperation, KvOutput, Value } from './history.js';
import { validateKvHistory } from './history.js';
import { checkKvHistory, formatKvResult } from './linearizability.js';
import { randomLinearizableHistory } from './random_history.js';
import { SimRng } from '../sim/rng.js';

// ---- a small language for hand-made histories ------------------------------------------

let nextId = 0;
const K = 'k';
function op(
  client: number,
  call: number,
  ret: number | null,
  input: KvInput,
  output?: KvOutput,
): KvOperation {
  return {
    id: nextId++,
    client,
    input,
    output: ret === null ? undefined : output,
    call,
    ret: ret === null ? Infinity : ret,
    ...(ret === null ? { error: 'ConnectionError' } : {}),
  };
}
const put = (c: number, call: number, ret: number | null, value: string, key = K) =>
  op(c, call, ret, { f: 'put', key, value }, { f: 'put' });
const del = (c: number, call: number, ret: number | null, key = K) =>
  op(c, call, ret, { f: 'delete', key }, { f: 'delete' });
const get = (c: number, call: number, ret: number, value: Value, key = K) =>
  op(c, call, ret, { f: 'get', key }, { f: 'get', value });
const cas = (
  c: number,
  call: number,
  ret: number | null,
  expected: Value,
  value: string,
  result?: { succeeded: boolean; previous: Value },
  key = K,
) =>
  op(
    c,
    call,
    ret,
    { f: 'cas', key, expected, value },
    result ? { f: 'cas', ...result } : undefined,
  );

function verdict(history: KvOperation[]): string {
  validateKvHistory(history);
  return checkKvHistory(history).verdict;
}

// ---- hand-made histories ---------------------------------------------------------------

describe('linearizable histories', () => {
  test('an empty history, and reads of a key never written', () => {
    assert.equal(verdict([]), 'ok');
    assert.equal(verdict([get(0, 0, 1, null), get(1, 2, 3, null)]), 'ok');
  });

  test('sequential put, get, delete, get', () => {
    assert.equal(
      verdict([put(0, 0, 1, 'a'), get(0, 2, 3, 'a'), del(0, 4, 5), get(0, 6, 7, null)]),
      'ok',
    );
  });

  test('a read concurrent with a write may see the old or the new value', () => {
    for (const seen of [null, 'a']) {
      assert.equal(verdict([put(0, 0, 10, 'a'), get(1, 1, 2, seen)]), 'ok', `saw ${seen}`);
    }
  });

  test('two concurrent writes may take effect in either order, but reads agree on one', () => {
    assert.equal(
      verdict([put(0, 0, 10, 'a'), put(1, 0, 10, 'b'), get(2, 11, 12, 'a')]),
      'ok',
      'b then a',
    );
    assert.equal(
      verdict([put(0, 0, 10, 'a'), put(1, 0, 10, 'b'), get(2, 11, 12, 'b')]),
      'ok',
      'a then b',
    );
    // Two readers after both writes must see the same final value.
    assert.equal(
      verdict([put(0, 0, 10, 'a'), put(1, 0, 10, 'b'), get(2, 11, 12, 'a'), get(3, 13, 14, 'b')]),
      'illegal',
    );
  });

  test('CAS swaps exactly when the register holds the expected value', () => {
    assert.equal(
      verdict([
        cas(0, 0, 1, null, 'a', { succeeded: true, previous: null }),
        cas(1, 2, 3, null, 'b', { succeeded: false, previous: 'a' }),
        cas(1, 4, 5, 'a', 'b', { succeeded: true, previous: 'a' }),
        get(0, 6, 7, 'b'),
      ]),
      'ok',
    );
  });

  test('keys are independent: interleavings on one key do not constrain another', () => {
    assert.equal(
      verdict([
        put(0, 0, 1, 'a', 'x'),
        put(1, 0, 1, 'b', 'y'),
        get(0, 2, 3, 'b', 'y'),
        get(1, 2, 3, 'a', 'x'),
      ]),
      'ok',
    );
  });
});

describe('classic violations', () => {
  test('a stale read: a later read returns a value already overwritten', () => {
    const h = [put(0, 0, 1, 'a'), put(0, 2, 3, 'b'), get(1, 4, 5, 'a')];
    const r = checkKvHistory(h);
    assert.equal(r.verdict, 'illegal');
    const report = formatKvResult(r);
    assert.match(report, /NOT linearizable/);
    assert.match(report, /key "k"/);
    assert.match(report, /get → "a"/);
    assert.match(report, /✗ op \d+ saw "a", written by op \d+ \(#1\), but overwritten since by #2/);
  });

  test('a lost write: an acknowledged put that a later read does not see', () => {
    assert.equal(verdict([put(0, 0, 1, 'a'), get(1, 2, 3, null)]), 'illegal');
  });

  test('a lost delete', () => {
    assert.equal(verdict([put(0, 0, 1, 'a'), del(0, 2, 3), get(1, 4, 5, 'a')]), 'illegal');
  });

  test('a value nobody wrote', () => {
    assert.equal(verdict([put(0, 0, 1, 'a'), get(1, 2, 3, 'z')]), 'illegal');
    assert.match(
      formatKvResult(checkKvHistory([put(0, 0, 1, 'a'), get(1, 2, 3, 'z')])),
      /saw "z", which no operation wrote/,
    );
  });

  test('a CAS applied twice: it reports failure with its own new value as previous', () => {
    // The retried CAS found its own first attempt applied: {succeeded:false, previous:v}.
    const twice = [cas(0, 0, 5, null, 'v', { succeeded: false, previous: 'v' }), get(1, 6, 7, 'v')];
    const r = checkKvHistory(twice);
    assert.equal(r.verdict, 'illegal');
    assert.match(formatKvResult(r), /cas absent → "v" → not swapped, previous "v"/);
    assert.match(formatKvResult(r), /its own new value.*applied twice/);
    // Legal only if another write really wrote "v" before the CAS took effect.
    assert.equal(
      verdict([put(1, 0, 2, 'v'), cas(0, 1, 5, null, 'v', { succeeded: false, previous: 'v' })]),
      'ok',
    );
  });

  test('a failed CAS that reports the wrong previous value', () => {
    assert.equal(
      verdict([put(0, 0, 1, 'b'), cas(1, 2, 3, 'a', 'c', { succeeded: false, previous: 'z' })]),
      'illegal',
    );
  });

  test('a CAS that succeeded although the register did not hold the expected value', () => {
    assert.equal(
      verdict([put(0, 0, 1, 'a'), cas(1, 2, 3, null, 'b', { succeeded: true, previous: null })]),
      'illegal',
    );
  });

  test('a read that sees a write before the write was called', () => {
    assert.equal(verdict([get(0, 0, 1, 'a'), put(1, 2, 3, 'a')]), 'illegal');
  });

  test('real-time order between clients counts, not only each client order', () => {
    // Client 1 reads b, then (after b's read returned) client 2 reads the older a.
    assert.equal(verdict([put(0, 0, 10, 'b'), get(1, 1, 2, 'b'), get(2, 3, 4, null)]), 'illegal');
  });
});

describe('indeterminate writes', () => {
  test('one that is later seen took effect', () => {
    assert.equal(verdict([put(0, 0, null, 'a'), get(1, 5, 6, 'a')]), 'ok');
  });

  test('one that is never seen did not take effect', () => {
    assert.equal(verdict([put(0, 0, null, 'a'), get(1, 5, 6, null), get(1, 7, 8, null)]), 'ok');
  });

  test('one may take effect long after everything else the client saw', () => {
    assert.equal(
      verdict([put(0, 0, null, 'a'), get(1, 5, 6, null), put(1, 7, 8, 'b'), get(1, 9, 10, 'a')]),
      'ok',
    );
  });

  test('but it takes effect at most once: seen, overwritten, then seen again is illegal', () => {
    assert.equal(
      verdict([
        put(0, 0, null, 'a'),
        get(1, 5, 6, 'a'),
        put(1, 7, 8, 'b'),
        get(1, 9, 10, 'b'),
        get(1, 11, 12, 'a'),
      ]),
      'illegal',
    );
  });

  test('and never before it was called', () => {
    assert.equal(verdict([get(1, 0, 1, 'a'), put(0, 2, null, 'a')]), 'illegal');
  });

  test('an indeterminate delete may remove the value', () => {
    assert.equal(verdict([put(0, 0, 1, 'a'), del(1, 2, null), get(0, 5, 6, null)]), 'ok');
    assert.equal(verdict([put(0, 0, 1, 'a'), del(1, 2, null), get(0, 5, 6, 'a')]), 'ok');
  });

  test('an indeterminate CAS applies only where its expected value holds', () => {
    // cas(a → c) cannot have applied: the register was b from before its call onwards.
    assert.equal(
      verdict([put(0, 0, 1, 'b'), cas(1, 2, null, 'a', 'c'), get(0, 5, 6, 'c')]),
      'illegal',
    );
    assert.equal(verdict([put(0, 0, 1, 'a'), cas(1, 2, null, 'a', 'c'), get(0, 5, 6, 'c')]), 'ok');
  });
});

describe('reports', () => {
  test('name the smallest failing key and only its operations', () => {
    const big = Array.from({ length: 6 }, (_, i) =>
      put(0, 100 + i * 2, 101 + i * 2, `x${i}`, 'big'),
    );
    const h = [
      ...big,
      get(1, 200, 201, 'nobody wrote this', 'big'),
      put(2, 0, 1, 'a', 'small'),
      get(3, 2, 3, null, 'small'),
      put(4, 0, 1, 'fine', 'ok'),
    ];
    const r = checkKvHistory(h);
    assert.equal(r.verdict, 'illegal');
    assert.equal(r.parts, 3);
    assert.deepEqual(
      r.failures.map((f) => f.key),
      ['small', 'big'],
    );
    const report = formatKvResult(r);
    assert.match(report, /2 of 3 keys not linearizable/);
    assert.match(report, /key "small": NOT linearizable — 2 operations/);
    assert.doesNotMatch(report, /x0|fine/);
    // The put is the linearizable prefix, the read of "absent" the op that cannot follow.
    assert.match(report, /#1 +put "a"/);
    assert.match(report, /✗ +get → absent/);
  });

  test('a long part is cut to the neighbourhood of the failure', () => {
    const h: KvOperation[] = [];
    for (let i = 0; i < 100; i++) h.push(put(0, i * 2, i * 2 + 1, `x${i}`));
    h.push(get(1, 201, 202, 'x10')); // stale: x99 was written before
    for (let i = 0; i < 50; i++) h.push(put(0, 300 + i * 2, 301 + i * 2, `y${i}`));
    const r = checkKvHistory(h);
    assert.equal(r.verdict, 'illegal');
    const report = formatKvResult(r);
    assert.match(report, /… 88 earlier operations/);
    assert.match(report, /✗ +get → "x10"/);
    assert.match(report, /… 38 later operations/);
    assert.ok(report.split('\n').length < 35, report);
  });

  test('an operation that fits nowhere, not even first, is marked', () => {
    const report = formatKvResult(checkKvHistory([get(0, 0, 1, 'ghost')]));
    assert.match(report, /longest linearizable prefix has 0 operations/);
    assert.match(report, /✗ +get → "ghost"/);
  });

  test('indeterminate operations show why', () => {
    const r = checkKvHistory([put(0, 0, null, 'a'), get(1, 0, 1, 'b')]);
    assert.match(formatKvResult(r), /indeterminate \(ConnectionError\)/);
  });
});

describe('history validation', () => {
  test('rejects malformed histories rather than judging them', () => {
    assert.throws(() => validateKvHistory([put(0, 5, 1, 'a')]), /returns before/);
    assert.throws(
      () => validateKvHistory([put(0, 0, 10, 'a'), put(0, 5, 12, 'b')]),
      /overlaps itself/,
    );
    const failedRead = get(0, 0, 1, null);
    failedRead.output = undefined;
    failedRead.ret = Infinity;
    assert.throws(() => validateKvHistory([failedRead]), /failed read/);
    const bad = put(0, 0, 1, 'a');
    bad.output = { f: 'get', value: null };
    assert.throws(() => validateKvHistory([bad]), /a put with a get output/);
  });
});

// ---- a brute-force oracle ----------------------------------------------------------------

/** The register semantics written out again, independently of the model under test. */
function applyTo(registers: Map<string, Value>, input: KvInput): KvOutput {
  const cur = registers.get(input.key) ?? null;
  if (input.f === 'get') return { f: 'get', value: cur };
  if (input.f === 'put') {
    registers.set(input.key, input.value);
    return { f: 'put' };
  }
  if (input.f === 'delete') {
    registers.set(input.key, null);
    return { f: 'delete' };
  }
  const succeeded = cur === input.expected;
  if (succeeded) registers.set(input.key, input.value);
  return { f: 'cas', succeeded, previous: cur };
}

function sameOutput(a: KvOutput, b: KvOutput): boolean {
  if (a.f !== b.f) return false;
  if (a.f === 'get') return a.value === (b as typeof a).value;
  if (a.f === 'cas') {
    const c = b as typeof a;
    return a.succeeded === c.succeeded && a.previous === c.previous;
  }
  return true;
}

/** Tries every order that respects real time: linearizable iff one is legal. */
function bruteForce(history: KvOperation[]): boolean {
  const n = history.length;
  const used = new Array<boolean>(n).fill(false);
  const search = (depth: number, state: Map<string, Value>): boolean => {
    if (depth === n) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const o = history[i]!;
      // o may go next only if no unplaced op returned before o was called.
      if (history.some((p, j) => !used[j] && j !== i && p.ret < o.call)) continue;
      const s2 = new Map(state);
      const out = applyTo(s2, o.input);
      // An indeterminate op placed here took effect; one that did not is placed last.
      if (o.output !== undefined && !sameOutput(out, o.output)) continue;
      used[i] = true;
      if (search(depth + 1, s2)) return true;
      used[i] = false;
    }
    return false;
  };
  return search(0, new Map());
}

/** A random change to one operation: the history is then often, not always, illegal. */
function mutate(h: KvOperation[], rng: SimRng): KvOperation[] {
  const out = h.map((o) => ({ ...o }));
  const candidates = out.filter((o) => o.output !== undefined);
  if (candidates.length === 0) return out;
  const o = rng.pick(candidates);
  const v = rng.pick([null, 'v0', 'v1', 'v2']);
  if (o.output!.f === 'get') o.output = { f: 'get', value: v };
  else if (o.output!.f === 'cas') {
    o.output = rng.chance(0.5)
      ? { f: 'cas', succeeded: !o.output!.succeeded, previous: o.output!.previous }
      : { f: 'cas', succeeded: o.output!.succeeded, previous: v };
  } else {
    // Move a write later in time (it may now miss reads that saw it).
    const shift = 1 + rng.float() * 3;
    o.call += shift;
    o.ret += shift;
  }
  return out;
}

describe('agrees with a brute-force search', () => {
  test('on 3000 small random histories, legal and mutated', () => {
    const rng = new SimRng(7);
    let illegal = 0;
    for (let i = 0; i < 3000; i++) {
      const base = randomLinearizableHistory({
        seed: i + 1,
        ops: rng.int(1, 7),
        keys: rng.int(1, 2),
        clients: rng.int(1, 4),
        indeterminate: rng.chance(0.5) ? 0.2 : 0.5,
        // Few values: collisions; unique values: indeterminate writes often unobserved
        // (and so pruned by the checker, never by the oracle).
        valuesPerKey: rng.chance(0.5) ? 3 : Infinity,
      });
      const h = rng.chance(0.6) ? mutate(base, rng) : base;
      const expected = bruteForce(h);
      const got = checkKvHistory(h).verdict;
      if (!expected) illegal++;
      assert.equal(
        got,
        expected ? 'ok' : 'illegal',
        `history ${i}:\n${JSON.stringify(h, null, 1)}`,
      );
    }
    // The oracle comparison means something only if both verdicts occur often.
    assert.ok(illegal > 300 && illegal < 2400, `illegal histories: ${illegal}`);
  });
});

describe('performance', () => {
  test('2 000 operations over 20 keys from 16 clients check in well under a second', () => {
    const h = randomLinearizableHistory({
      seed: 42,
      ops: 2000,
      keys: 20,
      clients: 16,
      indeterminate: 0.05,
    });
    validateKvHistory(h);
    const r = checkKvHistory(h);
    assert.equal(r.verdict, 'ok', formatKvResult(r));
    assert.equal(r.parts, 20);
    assert.ok(r.elapsedMs < 1000, `took ${r.elapsedMs} ms`);

    // The same history with one read made stale is caught just as fast.
    const stale = h.map((o) => ({ ...o }));
    const reads = stale.filter((o) => o.input.f === 'get' && o.output !== undefined);
    const victim = reads[reads.length - 1]!;
    const earlierWrite = stale.find(
      (o) => o.input.key === victim.input.key && o.input.f === 'put' && o.ret < victim.call - 50,
    )!;
    assert.ok(earlierWrite, 'the history has an old write to read stale');
    victim.output = { f: 'get', value: (earlierWrite.input as { value: string }).value };
    const bad = checkKvHistory(stale);
    assert.equal(bad.verdict, 'illegal');
    assert.equal(bad.failures[0]!.key, victim.input.key);
    assert.ok(bad.elapsedMs < 1000, `took ${bad.elapsedMs} ms`);
  });

  test('a long run: 20 000 operations on 12 keys check in seconds, not minutes', () => {
    // Guards against quadratic costs per step (hashing the whole linearized set, copying
    // the stack): before the incremental hash this took about 7 s, after it under 1 s.
    const h = randomLinearizableHistory({
      seed: 9,
      ops: 20_000,
      keys: 12,
      clients: 16,
      indeterminate: 0.02,
    });
    const r = checkKvHistory(h);
    assert.equal(r.verdict, 'ok');
    assert.ok(r.elapsedMs < 5000, `took ${r.elapsedMs} ms`);
  });

  test('indeterminate writes nobody observed do not slow the search down', () => {
    // The same shape without the CAS: the puts' values are never seen, so they are
    // pruned and the read is judged at once.
    const h: KvOperation[] = [];
    for (let i = 0; i < 22; i++) h.push(put(i, 0, null, `p${i}`));
    h.push(get(100, 1, 2, 'q'));
    const r = checkKvHistory(h, { timeoutMs: 5000 });
    assert.equal(r.verdict, 'illegal');
    assert.ok(r.elapsedMs < 100, `took ${r.elapsedMs} ms`);
    // ...and one that was seen still counts.
    assert.equal(verdict([put(0, 0, null, 'p'), get(1, 5, 6, 'p'), get(1, 7, 8, null)]), 'illegal');
  });

  test('a search that cannot finish in time answers unknown, never ok', () => {
    // 22 concurrent indeterminate puts of distinct values and a read that no order
    // satisfies: every subset of the puts is a distinct (linearized set, state) pair.
    // (Indeterminate CAS expecting each value keep the puts from being pruned.)
    const h: KvOperation[] = [];
    for (let i = 0; i < 22; i++) h.push(put(i, 0, null, `p${i}`));
    for (let i = 0; i < 22; i++) h.push(cas(50 + i, 0, null, `p${i}`, `x${i}`));
    h.push(get(100, 1, 2, 'q'));
    const r = checkKvHistory(h, { timeoutMs: 50 });
    assert.equal(r.verdict, 'unknown');
    assert.ok(r.elapsedMs < 1000, `gave up after ${r.elapsedMs} ms`);
  });
});

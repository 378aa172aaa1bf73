// Sequential specifications for the linearizability checker, in Porcupine's shape: a
// model says how one operation moves the state and whether its observed output is
// possible there. A model must be deterministic and its states immutable, because the
// checker memoizes (linearized set, state) pairs by `hash`.
import type { KvInput, KvOperation, KvOutput, Operation, Value } from './history.js';

export interface Model<S, I, O> {
  init(): S;
  /**
   * The state after applying `input` in `state` and observing `output`, or undefined if
   * that output is impossible there. `output` undefined (indeterminate) must always be
   * possible: the operation's effect is then whatever it would do.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** Equal states must hash equally, different ones differently. */
  hash(state: S): string;
  /**
   * Drop operations whose presence cannot change the verdict (optional); must preserve
   * "linearizable or not" exactly.
   */
  prune?(ops: readonly Operation<I, O>[]): Operation<I, O>[];
  /** Split a history into independent sub-histories (P-compositionality, Lowe §5). */
  partition(ops: readonly Operation<I, O>[]): { key: string; ops: Operation<I, O>[] }[];
  describeInput(input: I): string;
  describeOutput(output: O): string;
  describeState(state: S): string;
  /**
   * Why `op` cannot follow the linearized `prefix`, in the model's terms (for reports),
   * given every operation of the part; undefined when there is nothing useful to say.
   */
  explainStuck?(
    op: Operation<I, O>,
    prefix: readonly Operation<I, O>[],
    all: readonly Operation<I, O>[],
  ): string | undefined;
}

export function showValue(v: Value): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

/**
 * One register per key. Keys are independent (a RawKV write touches one key), so the
 * history is checked key by key; linearizability is local (Herlihy & Wing, Thm. 1), so
 * the whole history is linearizable iff every key's sub-history is.
 */
export const kvRegisterModel: Model<Value, KvInput, KvOutput> = {
  init: () => null,

  step(state, input, output) {
    switch (input.f) {
      case 'get':
        if (output === undefined) return state;
        return (output as Extract<KvOutput, { f: 'get' }>).value === state ? state : undefined;
      case 'put':
        return input.value;
      case 'delete':
        return null;
      case 'cas': {
        const matches = state === input.expected;
        if (output !== undefined) {
          const o = output as Extract<KvOutput, { f: 'cas' }>;
          if (o.previous !== state || o.succeeded !== matches) return undefined;
        }
        return matches ? input.value : state;
      }
    }
  },

  hash: (state) => (state === null ? '\u0000' : `=${state}`),

  prune: pruneUnobservedIndeterminateWrites,

  partition(ops) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key);
      if (list) list.push(op);
      else byKey.set(op.input.key, [op]);
    }
    return [...byKey].map(([key, list]) => ({ key, ops: list }));
  },

  describeInput(input) {
    switch (input.f) {
      case 'get':
        return 'get';
      case 'put':
        return `put ${showValue(input.value)}`;
      case 'delete':
        return 'delete';
      case 'cas':
        return `cas ${showValue(input.expected)} → ${showValue(input.value)}`;
    }
  },

  describeOutput(output) {
    switch (output.f) {
      case 'get':
        return showValue(output.value);
      case 'put':
      case 'delete':
        return 'ok';
      case 'cas':
        return `${output.succeeded ? 'swapped' : 'not swapped'}, previous ${showValue(output.previous)}`;
    }
  },

  describeState: showValue,
  explainStuck: explainKvStuck,
};

/**
 * An indeterminate put or CAS whose value v no operation ever observes (no read returns
 * it, no CAS reports it as previous or expects it) can be dropped: in any linearization
 * that places it, the stretch of time while the register held v contains no operation
 * that looked at the register — a look would have seen v — except indeterminate CAS,
 * which did not swap there and can move to the end, where their effect is invisible.
 * Conversely a linearization without it stays one with it placed last. Without this, k
 * such writes (common under faults: requests that died with their store) make the
 * search try 2^k subsets before it can call a history illegal.
 */
function pruneUnobservedIndeterminateWrites(ops: readonly KvOperation[]): KvOperation[] {
  const observed = new Set<string>();
  for (const op of ops) {
    if (op.output?.f === 'get' && op.output.value !== null) observed.add(op.output.value);
    if (op.output?.f === 'cas' && op.output.previous !== null) observed.add(op.output.previous);
    if (op.input.f === 'cas' && op.input.expected !== null) observed.add(op.input.expected);
  }
  return ops.filter(
    (op) =>
      !(
        op.output === undefined &&
        (op.input.f === 'put' || op.input.f === 'cas') &&
        !observed.has(op.input.value)
      ),
  );
}

/** The value an operation leaves in the register if it took effect, or undefined. */
function writtenBy(op: KvOperation): { value: Value } | undefined {
  switch (op.input.f) {
    case 'get':
      return undefined;
    case 'put':
      return { value: op.input.value };
    case 'delete':
      return { value: null };
    case 'cas':
      if (op.output?.f === 'cas' && !op.output.succeeded) return undefined;
      return { value: op.input.value };
  }
}

/** The value an operation saw in the register, if its output tells. */
function observedBy(op: KvOperation): { value: Value } | undefined {
  if (op.output?.f === 'get') return { value: op.output.value };
  if (op.output?.f === 'cas') return { value: op.output.previous };
  return undefined;
}

/**
 * Names the writer of the value a stuck operation observed and what overwrote it since,
 * which is what a reader needs to see "a write applied twice" or "a stale read".
 */
function explainKvStuck(
  op: KvOperation,
  prefix: readonly KvOperation[],
  all: readonly KvOperation[],
): string | undefined {
  const seen = observedBy(op);
  if (!seen || seen.value === null) return undefined;
  const v = seen.value;
  const what = `op ${op.id} saw ${showValue(v)}`;
  const writers = all.filter((w) => writtenBy(w)?.value === v);
  if (writers.length === 0) {
    if (op.input.f === 'cas' && op.input.value === v) {
      return `${what}: its own new value, so its CAS took effect before it read — applied twice`;
    }
    const failedCas = all.find((w) => w.input.f === 'cas' && w.input.value === v);
    if (failedCas) {
      return `${what}, which only op ${failedCas.id}'s CAS would write, and it reported failure`;
    }
    return `${what}, which no operation wrote`;
  }
  const at = prefix.findIndex((w) => writtenBy(w)?.value === v);
  if (at < 0) return `${what}, written by op ${writers.map((w) => w.id).join(', ')}`;
  const since = prefix.slice(at + 1).filter((w) => writtenBy(w) !== undefined);
  return (
    `${what}, written by op ${prefix[at]!.id} (#${at + 1})` +
    (since.length
      ? `, but overwritten since by ${since.map((w) => `#${prefix.indexOf(w) + 1}`).join(', ')}` +
        ` — a stale read, or the write applied twice`
      : '')
  );
}

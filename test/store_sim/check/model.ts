// A verbatim copy of test/check/model.ts from the chaos branch (commit c49c2ed), the shared
// linearizability checker. Replace this folder by imports of test/check/ once both are merged.
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
  /** Split a history into independent sub-histories (P-compositionality, Lowe §5). */
  partition(ops: readonly Operation<I, O>[]): { key: string; ops: Operation<I, O>[] }[];
  describeInput(input: I): string;
  describeOutput(output: O): string;
  describeState(state: S): string;
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
};

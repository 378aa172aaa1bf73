// A verbatim copy of test/check/history.ts from the chaos branch (commit c49c2ed), the shared
// linearizability checker. Replace this folder by imports of test/check/ once both are merged.
// The shape of a recorded RawKV history, shared by the recorder (test/chaos/) and the
// checkers. One Operation is one client call: when it was called, when it returned, and
// what it returned. An operation whose outcome the client cannot know (a write whose
// connection broke or that timed out) is *indeterminate*: its return time is +Infinity
// and its output unknown, so a checker may place its effect anywhere after its call, or
// nowhere (Porcupine's treatment of "info" operations, after Jepsen).

/** A register's value: a string, or null when the key is absent. */
export type Value = string | null;

export type KvInput =
  | { f: 'get'; key: string }
  | { f: 'put'; key: string; value: string }
  | { f: 'delete'; key: string }
  /** Set `value` if the register equals `expected` (null: if the key is absent). */
  | { f: 'cas'; key: string; expected: Value; value: string };

export type KvOutput =
  | { f: 'get'; value: Value }
  | { f: 'put' }
  | { f: 'delete' }
  | { f: 'cas'; succeeded: boolean; previous: Value };

export interface Operation<I, O> {
  /** Unique within the history; the order of ids carries no meaning. */
  id: number;
  /** Which client (one sequential process) issued it. */
  client: number;
  input: I;
  /** undefined: indeterminate — the client does not know what happened. */
  output: O | undefined;
  /** Invocation time (any monotonic unit; the recorder uses milliseconds). */
  call: number;
  /** Completion time; +Infinity for an indeterminate operation. */
  ret: number;
  /** Why the operation is indeterminate (the error's name and message), for reports. */
  error?: string;
}

export type KvOperation = Operation<KvInput, KvOutput>;

/** True when the client never learned the outcome. */
export function isIndeterminate(op: Operation<unknown, unknown>): boolean {
  return op.output === undefined;
}

/**
 * Checks the invariants every recorded history must satisfy before it is worth checking:
 * times ordered, indeterminate exactly when the return time is infinite, outputs of the
 * input's kind, one client never overlapping itself. A recorder bug must not surface as
 * a false "not linearizable".
 */
export function validateKvHistory(ops: readonly KvOperation[]): void {
  const ids = new Set<number>();
  const byClient = new Map<number, KvOperation[]>();
  for (const op of ops) {
    if (ids.has(op.id)) throw new Error(`operation id ${op.id} appears twice`);
    ids.add(op.id);
    if (!(op.call <= op.ret)) throw new Error(`operation ${op.id} returns before it is called`);
    if ((op.output === undefined) !== (op.ret === Infinity)) {
      throw new Error(`operation ${op.id}: indeterminate exactly when its return time is infinite`);
    }
    if (op.output !== undefined && op.output.f !== op.input.f) {
      throw new Error(`operation ${op.id}: a ${op.input.f} with a ${op.output.f} output`);
    }
    if (op.output === undefined && op.input.f === 'get') {
      throw new Error(`operation ${op.id}: a failed read belongs out of the history`);
    }
    const list = byClient.get(op.client) ?? [];
    list.push(op);
    byClient.set(op.client, list);
  }
  for (const [client, list] of byClient) {
    list.sort((a, b) => a.call - b.call);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.call < list[i - 1]!.ret) {
        throw new Error(
          `client ${client} overlaps itself: operations ${list[i - 1]!.id} and ${list[i]!.id}`,
        );
      }
    }
  }
}

// Random RawKV histories that are linearizable by construction, for testing the checker:
// every operation gets a secret linearization point inside [call, return], outputs are
// computed by applying the operations to real registers in the order of those points,
// and then the points are forgotten. Indeterminate writes either took effect at their
// point or never did; the client that issued one continues as a new client, as a crashed
// Jepsen process does, so no client ever overlaps itself.
import { SimRng } from '../sim/rng.js';
import type { KvInput, KvOperation, KvOutput, Value } from './history.js';

export interface RandomHistoryOptions {
  seed: number;
  ops: number;
  keys: number;
  clients: number;
  /** Probability that a write is indeterminate. */
  indeterminate?: number;
  /** Values come from this many distinct strings per key (small: more collisions). */
  valuesPerKey?: number;
}

export function randomLinearizableHistory(o: RandomHistoryOptions): KvOperation[] {
  const rng = new SimRng(o.seed);
  const pIndet = o.indeterminate ?? 0;
  const valuesPerKey = o.valuesPerKey ?? Infinity;
  type Draft = { op: KvOperation; point: number; applies: boolean };
  const drafts: Draft[] = [];
  const clock = Array.from({ length: o.clients }, () => rng.float() * 2);
  const clientId = Array.from({ length: o.clients }, (_, i) => i);
  let nextClient = o.clients;
  let counter = 0;
  for (let id = 0; id < o.ops; id++) {
    const c = rng.int(0, o.clients - 1);
    const key = `k${rng.int(0, o.keys - 1)}`;
    const fresh = () =>
      valuesPerKey === Infinity ? `v${counter++}` : `v${rng.int(0, Math.max(0, valuesPerKey - 1))}`;
    const f = rng.weighted({ get: 4, put: 3, delete: 1, cas: 2 });
    const full: KvInput =
      f === 'get'
        ? { f, key }
        : f === 'put'
          ? { f, key, value: fresh() }
          : f === 'delete'
            ? { f, key }
            : { f, key, expected: rng.chance(0.3) ? null : fresh(), value: fresh() };
    const call = clock[c]! + rng.float();
    const ret = call + 0.1 + rng.float() * 3;
    const point = call + (ret - call) * rng.float();
    const indet = full.f !== 'get' && rng.chance(pIndet);
    drafts.push({
      op: {
        id,
        client: clientId[c]!,
        input: full,
        output: undefined,
        call,
        ret: indet ? Infinity : ret,
      },
      point,
      applies: !indet || rng.chance(0.5),
    });
    clock[c] = ret;
    if (indet) clientId[c] = nextClient++;
  }
  const registers = new Map<string, Value>();
  for (const d of [...drafts].sort((a, b) => a.point - b.point)) {
    if (!d.applies) continue;
    const out = apply(registers, d.op.input);
    if (d.op.ret !== Infinity) d.op.output = out;
  }
  // An indeterminate op that never applied also has no output: nothing more to do.
  return drafts.map((d) => d.op);
}

function apply(registers: Map<string, Value>, input: KvInput): KvOutput {
  const cur = registers.get(input.key) ?? null;
  switch (input.f) {
    case 'get':
      return { f: 'get', value: cur };
    case 'put':
      registers.set(input.key, input.value);
      return { f: 'put' };
    case 'delete':
      registers.set(input.key, null);
      return { f: 'delete' };
    case 'cas': {
      const ok = cur === input.expected;
      if (ok) registers.set(input.key, input.value);
      return { f: 'cas', succeeded: ok, previous: cur };
    }
  }
}

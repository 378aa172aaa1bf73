// "No acknowledged write lost", checked on its own so that a violation reads as what it
// is rather than as one more non-linearizable key. After the faults heal, the final read
// of a key must return the value of a write that nothing acknowledged has definitely
// overwritten: the last acknowledged write, or a write concurrent with it or later, or an
// indeterminate write (it may have taken effect at any time after its call). A final
// value outside that set means an acknowledged write vanished. A CAS that reported
// failure counts as a possible writer too: when one did take effect (a retried CAS
// applied twice), that is a linearizability violation, reported by that checker; here
// it must not masquerade as a lost write.
import type { KvOperation, Value } from './history.js';
import { showValue } from './model.js';

export interface LostWrite {
  key: string;
  finalValue: Value;
  /** The writes the final value could legally come from. */
  candidates: KvOperation[];
}

/** What a write leaves in the register if it took effect; undefined for a read. */
function written(op: KvOperation): { value: Value } | undefined {
  switch (op.input.f) {
    case 'get':
      return undefined;
    case 'put':
      return { value: op.input.value };
    case 'delete':
      return { value: null };
    case 'cas':
      return { value: op.input.value };
  }
}

/** True when the write certainly took effect and the client was told so. */
function acknowledged(op: KvOperation): boolean {
  if (op.output === undefined || op.input.f === 'get') return false;
  return op.output.f !== 'cas' || op.output.succeeded;
}

function outcome(op: KvOperation): string {
  if (op.output === undefined) return 'indeterminate';
  return acknowledged(op) ? 'acknowledged' : 'reported not swapped';
}

/**
 * @param history every operation, the final reads included
 * @param finalReads key → the value read after every fault healed and every client stopped
 */
export function findLostWrites(
  history: readonly KvOperation[],
  finalReads: ReadonlyMap<string, Value>,
): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const [key, finalValue] of finalReads) {
    const writes = history.filter((op) => op.input.key === key && written(op) !== undefined);
    // A write is definitely overwritten when an acknowledged write was called after it
    // returned (real-time order). Writes not overwritten are the possible final values.
    const candidates = writes.filter(
      (w) => !writes.some((later) => acknowledged(later) && later.call > w.ret),
    );
    const possible = new Set<Value>(candidates.map((w) => written(w)!.value));
    if (candidates.every((w) => !acknowledged(w))) possible.add(null); // none may have happened
    if (!possible.has(finalValue)) lost.push({ key, finalValue, candidates });
  }
  return lost;
}

export function formatLostWrite(l: LostWrite): string {
  const lines = [
    `key ${JSON.stringify(l.key)}: the final read returned ${showValue(l.finalValue)}, but the ` +
      `last acknowledged writes left one of:`,
  ];
  for (const w of l.candidates) {
    lines.push(
      `  ${showValue(written(w)!.value)} from ${w.input.f} [op ${w.id}, client ${w.client}, ` +
        `${outcome(w)}]`,
    );
  }
  if (l.candidates.length === 0) lines.push('  (absent: the key was never written)');
  return lines.join('\n');
}

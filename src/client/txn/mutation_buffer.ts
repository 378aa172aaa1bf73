// A transaction's buffered writes (Percolator §2.2: "writes are buffered in the client
// until commit"): the last operation per key wins, except that locking a key already
// written keeps the write. Reads of the transaction consult it first, so a transaction
// reads its own writes. Bounded: a transaction that grows past its limits fails at the
// write that crosses them instead of at commit.
import { InvalidArgumentError } from '../errors.js';

export type MutationKind = 'put' | 'delete' | 'lock' | 'insert';

export interface BufferedMutation {
  kind: MutationKind;
  key: Buffer;
  /** Set for put and insert. */
  value?: Buffer;
}

export interface MutationBufferLimits {
  maxKeys: number;
  maxBytes: number;
}

export class TxnTooLargeError extends InvalidArgumentError {}

const cmp = Buffer.compare;

export class MutationBuffer {
  private readonly byKey = new Map<string, BufferedMutation>();
  private bytes = 0;

  constructor(private readonly limits: MutationBufferLimits) {}

  get size(): number {
    return this.byKey.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  private static sizeOf(m: BufferedMutation): number {
    return m.key.length + (m.value?.length ?? 0);
  }

  set(m: BufferedMutation): void {
    const id = m.key.toString('hex');
    const old = this.byKey.get(id);
    if (m.kind === 'lock' && old) return;
    // An insert of a key this transaction deleted is a put (the key was checked absent... or
    // not: keep insert semantics only when the key was untouched).
    const next: BufferedMutation = m.kind === 'insert' && old ? { ...m, kind: 'put' } : m;
    const delta = MutationBuffer.sizeOf(next) - (old ? MutationBuffer.sizeOf(old) : 0);
    if (!old && this.byKey.size + 1 > this.limits.maxKeys) {
      throw new TxnTooLargeError(`a transaction may write at most ${this.limits.maxKeys} keys`);
    }
    if (this.bytes + delta > this.limits.maxBytes) {
      throw new TxnTooLargeError(`a transaction may buffer at most ${this.limits.maxBytes} bytes`);
    }
    this.bytes += delta;
    this.byKey.set(id, next);
  }

  /** The buffered mutation of key, if any. */
  get(key: Buffer): BufferedMutation | undefined {
    return this.byKey.get(key.toString('hex'));
  }

  /** Every mutation, in key order. */
  sorted(): BufferedMutation[] {
    return [...this.byKey.values()].sort((a, b) => cmp(a.key, b.key));
  }

  /** Mutations of keys in [start, end) (empty end: +infinity), in key order. */
  inRange(start: Buffer, end: Buffer): BufferedMutation[] {
    return this.sorted().filter(
      (m) => cmp(m.key, start) >= 0 && (end.length === 0 || cmp(m.key, end) < 0),
    );
  }
}

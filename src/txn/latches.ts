// Latches on keys (TiKV's scheduler latches, src/storage/txn/latch.rs): an action that
// reads, checks and writes keys holds their latches from before its checks until its
// writes are applied, so that two actions on one key never interleave — e.g. two racing
// prewrites cannot both see "no lock" and both win.
//
// Keys hash to a fixed number of slots; each slot is a FIFO queue of waiting commands.
// A command joins the queues of all its slots at once (one synchronous step, so the
// queues agree on the order of any two commands and nobody deadlocks) and runs once it
// is at the head of every one of them.
const DEFAULT_SLOTS = 2048;

interface Waiter {
  slots: number[];
  ready: () => void;
}

export class Latches {
  private readonly queues: (Waiter[] | undefined)[];

  constructor(private readonly size = DEFAULT_SLOTS) {
    this.queues = new Array<Waiter[] | undefined>(size);
  }

  private slot(key: Uint8Array): number {
    // FNV-1a: cheap and spreads short keys well.
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      h ^= key[i]!;
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % this.size;
  }

  /** Waits for the latches of all keys; call the returned function to release them. */
  acquire(keys: readonly Uint8Array[]): Promise<() => void> {
    const slots = [...new Set(keys.map((k) => this.slot(k)))].sort((a, b) => a - b);
    return new Promise((resolve) => {
      const w: Waiter = { slots, ready: () => resolve(() => this.release(w)) };
      for (const s of slots) (this.queues[s] ??= []).push(w);
      if (this.isHead(w)) w.ready();
    });
  }

  private isHead(w: Waiter): boolean {
    return w.slots.every((s) => this.queues[s]![0] === w);
  }

  private release(w: Waiter): void {
    const next = new Set<Waiter>();
    for (const s of w.slots) {
      const q = this.queues[s]!;
      if (q[0] !== w) throw new Error('latch released by a command that does not hold it');
      q.shift();
      if (q.length === 0) this.queues[s] = undefined;
      else next.add(q[0]!);
    }
    for (const n of next) if (this.isHead(n)) n.ready();
  }

  /** Commands holding or waiting for latches (for tests and metrics). */
  get waiting(): number {
    const all = new Set<Waiter>();
    for (const q of this.queues) for (const w of q ?? []) all.add(w);
    return all.size;
  }
}

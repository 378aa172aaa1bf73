// The leader's window of in-flight append messages to one follower, bounded both by
// count and by bytes: flow control so a slow follower cannot absorb unbounded memory.
// Each slot records the last index of one MsgApp and the bytes it carried.
import { invariant } from '../errors.js';

export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  private readonly indexes: number[];
  private readonly sizes: number[];

  constructor(
    readonly capacity: number,
    /** 0 means no byte limit. */
    readonly maxBytes: number,
  ) {
    invariant(capacity > 0, 'inflights capacity must be positive');
    this.indexes = new Array<number>(capacity);
    this.sizes = new Array<number>(capacity);
  }

  clone(): Inflights {
    const c = new Inflights(this.capacity, this.maxBytes);
    c.start = this.start;
    c.count = this.count;
    c.bytes = this.bytes;
    for (let i = 0; i < this.capacity; i++) {
      c.indexes[i] = this.indexes[i]!;
      c.sizes[i] = this.sizes[i]!;
    }
    return c;
  }

  /** Record a sent MsgApp whose last entry is `index`. Indexes must increase. */
  add(index: number, bytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights window');
    let next = this.start + this.count;
    if (next >= this.capacity) next -= this.capacity;
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Free every slot whose index is <= `to` (the follower acknowledged up to `to`). */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.indexes[this.start]!) return;
    let idx = this.start;
    let i = 0;
    let freedBytes = 0;
    for (; i < this.count; i++) {
      if (to < this.indexes[idx]!) break;
      freedBytes += this.sizes[idx]!;
      idx++;
      if (idx >= this.capacity) idx -= this.capacity;
    }
    this.count -= i;
    this.bytes -= freedBytes;
    this.start = this.count === 0 ? 0 : idx;
  }

  full(): boolean {
    return this.count === this.capacity || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  get length(): number {
    return this.count;
  }

  get inflightBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
    this.bytes = 0;
  }
}

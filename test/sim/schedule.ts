// The simulated clock: a priority queue of events ordered by (time, insertion order).
// Time is a plain integer; nothing happens between events, so a run is a sequence of
// discrete steps. Ties are broken by insertion order, which is itself determined by the
// seed, so the order of simultaneous events is reproducible.

interface Item<E> {
  time: number;
  seq: number;
  ev: E;
}

export class Scheduler<E> {
  /** The current simulated time: the time of the event being processed. */
  now = 0;
  private seq = 0;
  private heap: Item<E>[] = [];

  /** Schedule `ev` at now + delay (delay >= 0). */
  after(delay: number, ev: E): void {
    const item = { time: this.now + Math.max(0, delay), seq: this.seq++, ev };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Remove the earliest event and advance the clock to it. */
  pop(): E | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    this.now = top.time;
    return top.ev;
  }

  get size(): number {
    return this.heap.length;
  }
}

function less<E>(a: Item<E>, b: Item<E>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

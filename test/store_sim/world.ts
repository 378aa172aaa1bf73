// The simulated world the stores run in: one virtual clock, one seeded RNG and one event
// queue. Every timer, deferred turn, message delivery, client request and fault is an event
// here; nothing consults a real clock, so a seed replays the same run exactly. Each store
// gets a StoreRuntime view of this world (SimRuntime) in place of Node's timers.
import { SimRng } from '../sim/rng.js';
import type { ClientClock } from '../../src/client/client_clock.js';
import { StoreRuntime, TimerHandle } from '../../src/store/runtime.js';

/** Owner of events that belong to no store (faults, client code, the network core). */
export const WORLD = 0;
/** An event bound to no incarnation: it still runs after its store restarted. */
export const ANY_INCARNATION = -1;

interface SimEvent {
  time: number;
  seq: number;
  /** The store whose process runs it (held while that store is paused), or WORLD. */
  owner: number;
  /** Dropped if the owner restarted since (its timers died with the old process). */
  incarnation: number;
  label: string;
  fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap on (time, seq): equal times run in the order they were scheduled. */
class EventHeap {
  private readonly a: SimEvent[] = [];

  get size(): number {
    return this.a.length;
  }

  private less(x: SimEvent, y: SimEvent): boolean {
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }

  push(e: SimEvent): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): SimEvent | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Wall clock of virtual time 0 (any fixed instant: sessions expire by wall time). */
const WALL_EPOCH_MS = Date.UTC(2026, 0, 1);

export class SimWorld {
  now = 0;
  steps = 0;
  readonly rng: SimRng;
  private readonly heap = new EventHeap();
  private seq = 0;
  private readonly incarnations = new Map<number, number>();
  /** Store → virtual time until which its process is stopped (SIGSTOP, a long GC pause). */
  private readonly pausedUntil = new Map<number, number>();

  constructor(
    seed: number,
    readonly trace?: (line: string) => void,
  ) {
    this.rng = new SimRng(seed);
  }

  /** Wall-clock ms of the current virtual instant (PD's TSO, session expiry). */
  wallNow(): number {
    return WALL_EPOCH_MS + Math.floor(this.now);
  }

  incarnation(owner: number): number {
    return this.incarnations.get(owner) ?? 0;
  }

  /** The owner's process died: its pending timers and deferred work die with it. */
  kill(owner: number): void {
    this.incarnations.set(owner, this.incarnation(owner) + 1);
    this.pausedUntil.delete(owner);
  }

  pause(owner: number, untilMs: number): void {
    this.pausedUntil.set(owner, Math.max(untilMs, this.pausedUntil.get(owner) ?? 0));
  }

  isPaused(owner: number): boolean {
    return (this.pausedUntil.get(owner) ?? 0) > this.now;
  }

  at(
    time: number,
    owner: number,
    label: string,
    fn: () => void,
    incarnation = this.incarnation(owner),
  ): SimEvent {
    const e: SimEvent = {
      time: Math.max(time, this.now),
      seq: this.seq++,
      owner,
      incarnation,
      label,
      fn,
      cancelled: false,
    };
    this.heap.push(e);
    return e;
  }

  after(ms: number, owner: number, label: string, fn: () => void): SimEvent {
    return this.at(this.now + ms, owner, label, fn);
  }

  /** Run the next event; false when none is left before `until`. */
  step(until: number): boolean {
    for (;;) {
      const e = this.heap.pop();
      if (!e) return false;
      if (e.time > until) {
        this.heap.push(e);
        return false;
      }
      if (e.cancelled) continue;
      if (e.incarnation !== ANY_INCARNATION && e.incarnation !== this.incarnation(e.owner)) {
        continue;
      }
      const held = this.pausedUntil.get(e.owner);
      if (held !== undefined && e.time < held) {
        // The process is stopped: its event waits until it runs again, in the same order.
        e.seq = this.seq++;
        e.time = held;
        this.heap.push(e);
        continue;
      }
      this.now = Math.max(this.now, e.time);
      this.steps++;
      this.trace?.(`${this.now.toFixed(3)} [${e.owner}] ${e.label}`);
      e.fn();
      return true;
    }
  }

  /** A StoreRuntime for the current incarnation of a store. */
  runtimeFor(owner: number): StoreRuntime {
    return new SimRuntime(this, owner);
  }
}

interface SimTimer {
  event: SimEvent | undefined;
  cancelled: boolean;
}

/**
 * A store's clocks and timers in the simulated world. Timers fire a little late, never
 * early (like Node's); a deferred turn runs after a short random delay, which is where the
 * simulated fsync latency lives (raft_store.ts defers the log write) and lets crashes land
 * between a turn's sends and its log write.
 */
class SimRuntime implements StoreRuntime {
  constructor(
    private readonly world: SimWorld,
    private readonly owner: number,
  ) {}

  now(): number {
    return this.world.now;
  }

  wallNow(): number {
    return this.world.wallNow();
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const t: SimTimer = { event: undefined, cancelled: false };
    t.event = this.world.after(ms + this.lateness(), this.owner, 'timer', fn);
    return t as unknown as TimerHandle;
  }

  setRepeating(ms: number, fn: () => void): TimerHandle {
    const t: SimTimer = { event: undefined, cancelled: false };
    const arm = () => {
      t.event = this.world.after(ms + this.lateness(), this.owner, 'tick', () => {
        if (t.cancelled) return;
        arm();
        fn();
      });
    };
    arm();
    return t as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    const t = handle as unknown as SimTimer;
    t.cancelled = true;
    if (t.event) t.event.cancelled = true;
  }

  defer(fn: () => void): void {
    this.world.after(this.world.rng.float() * 0.2, this.owner, 'defer', fn);
  }

  raftSeed(): number {
    return this.world.rng.derive();
  }

  private lateness(): number {
    return this.world.rng.float() * 0.5;
  }
}

/**
 * The SDK's clock in the simulated world: virtual time, sleeps and repeating timers as
 * world events owned by no store, jitter from the seed.
 */
export function simClientClock(world: SimWorld): ClientClock {
  return {
    now: () => world.now,
    sleep: (ms) => new Promise((resolve) => world.after(ms, WORLD, 'client sleep ends', resolve)),
    random: () => world.rng.float(),
    every(ms, fn) {
      let event: SimEvent | undefined;
      let cancelled = false;
      const arm = () => {
        event = world.after(ms, WORLD, 'client timer', () => {
          if (cancelled) return;
          arm();
          fn();
        });
      };
      arm();
      return {
        cancel: () => {
          cancelled = true;
          if (event) event.cancelled = true;
        },
      };
    },
  };
}

// Everything a store's event loop takes from its environment: clocks, timers, deferred work
// and the seed of its Raft nodes' election jitter. Production fills it with Node's own calls
// (NODE_RUNTIME); the store simulator (test/store_sim/) fills it with a virtual clock and
// one seeded event queue, so the same RaftStore code runs in both — FoundationDB's
// "simulate the environment, not the code".

/** An opaque handle of a timer, for clearTimer. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface StoreRuntime {
  /** A monotonic clock in ms (leases and request deadlines; never steps back). */
  now(): number;
  /** Wall-clock ms since the epoch (stamped on commands; session records expire by it). */
  wallNow(): number;
  /** Run fn once after ms. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Run fn every ms until cleared. */
  setRepeating(ms: number, fn: () => void): TimerHandle;
  clearTimer(t: TimerHandle): void;
  /** Run fn soon, after the current event and the I/O callbacks already due (setImmediate). */
  defer(fn: () => void): void;
  /** The seed of a new Raft node's randomized election timeout (thesis §3.4). */
  raftSeed(peerId: number): number;
}

/** Election jitter must differ between the peers of one Region and between restarts. */
export function clockRaftSeed(now: number, peerId: number): number {
  return (now ^ (peerId * 2654435761)) >>> 0;
}

/** The real thing: Node's timers, performance.now and Date.now. */
export const NODE_RUNTIME: StoreRuntime = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t as unknown as TimerHandle;
  },
  setRepeating(ms, fn) {
    // Unref'd: a store's tick must not keep a process alive that is otherwise done.
    const t = setInterval(fn, ms);
    t.unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimer(t) {
    clearTimeout(t as unknown as NodeJS.Timeout);
  },
  defer(fn) {
    setImmediate(fn);
  },
  raftSeed: (peerId) => clockRaftSeed(performance.now(), peerId),
};

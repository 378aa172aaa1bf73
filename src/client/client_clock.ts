// The client's clocks, timers and randomness. A transaction's timing — its lock TTL by age,
// its backoff pauses and their jitter, its lock waits, the primary's heartbeat — all come
// from here. Applications get Node's (NODE_CLIENT_CLOCK); the store simulation
// (test/store_sim/) gives the same TxnClient code a virtual clock drawn from one seed, so
// a run of clients against simulated stores replays exactly.

/** A repeating timer, for cancel(). */
export interface RepeatingTimer {
  cancel(): void;
}

export interface ClientClock {
  /** A monotonic clock in ms (ages, deadlines; never steps back). */
  now(): number;
  /** Resolves after ms. */
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1): backoff jitter. */
  random(): number;
  /** Runs fn every ms until cancelled; never keeps the process alive by itself. */
  every(ms: number, fn: () => void): RepeatingTimer;
}

export const NODE_CLIENT_CLOCK: ClientClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

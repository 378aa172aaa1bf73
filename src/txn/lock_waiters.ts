// Pessimistic lock requests waiting for a key's lock to go away (a first slice of TiKV's
// lock manager waiter table, src/server/lock_manager/waiter_manager.rs): a request that
// meets another transaction's lock waits until an action on this store removes a lock
// of that key (commit, rollback, resolve) or its wait times out, then tries again.
// Deadlocks are not this table's business: TxnKv asks the deadlock detector before a
// request waits (src/store/deadlock_detector.ts).

/** The timers a wait runs on: Node's, or the simulation's virtual ones. */
export interface WaitTimers {
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

const NODE_TIMERS: WaitTimers = {
  setTimer: (ms, fn) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Waiter {
  wake: () => void;
}

export class LockWaiters {
  private readonly byKey = new Map<string, Set<Waiter>>();

  constructor(private readonly timers: WaitTimers = NODE_TIMERS) {}

  /** Resolves when the key's lock is removed here, or after ms (whichever first). */
  wait(key: Buffer, ms: number): Promise<void> {
    const k = key.toString('latin1');
    return new Promise((resolve) => {
      const w: Waiter = {
        wake: () => {
          this.timers.clearTimer(timer);
          const set = this.byKey.get(k);
          set?.delete(w);
          if (set?.size === 0) this.byKey.delete(k);
          resolve();
        },
      };
      const timer = this.timers.setTimer(ms, () => w.wake());
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(w);
    });
  }

  /** Locks of these keys were removed: wake everyone waiting for them. */
  wake(keys: readonly Buffer[]): void {
    for (const key of keys) {
      const set = this.byKey.get(key.toString('latin1'));
      if (set) for (const w of [...set]) w.wake();
    }
  }

  get count(): number {
    let n = 0;
    for (const s of this.byKey.values()) n += s.size;
    return n;
  }
}

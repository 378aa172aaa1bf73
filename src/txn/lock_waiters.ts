// Pessimistic lock requests waiting for a key's lock to go away (a first slice of TiKV's
// lock manager waiter table, src/server/lock_manager/waiter_manager.rs): a request that
// meets another transaction's lock waits until an action on this store removes a lock
// of that key (commit, rollback, resolve) or its wait times out, then tries again.
// There is no deadlock detection: transactions waiting on each other both wait until
// their wait_timeout and fail with Locked.
interface Waiter {
  wake: () => void;
}

export class LockWaiters {
  private readonly byKey = new Map<string, Set<Waiter>>();

  /** Resolves when the key's lock is removed here, or after ms (whichever first). */
  wait(key: Buffer, ms: number): Promise<void> {
    const k = key.toString('latin1');
    return new Promise((resolve) => {
      const w: Waiter = {
        wake: () => {
          clearTimeout(timer);
          const set = this.byKey.get(k);
          set?.delete(w);
          if (set?.size === 0) this.byKey.delete(k);
          resolve();
        },
      };
      const timer = setTimeout(() => w.wake(), ms);
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

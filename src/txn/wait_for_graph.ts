// Deadlock detection for waiting pessimistic lock requests (TiKV's deadlock detector,
// src/server/lock_manager/deadlock.rs): a wait-for graph of transactions, txn → the
// transaction whose lock it waits for. A wait that would close a cycle is refused with
// Deadlock instead of waiting out its timeout. This graph is per store: it sees the waits
// on Regions this store leads (TiKV runs one detector for the cluster, on the leader of
// the first Region; that home needs a detector RPC, which NyxDB does not have yet).

export interface WaitForEntry {
  txn: bigint;
  waitForTxn: bigint;
  key: Buffer;
}

export class WaitForGraph {
  /** txn → (waited-for txn → the key and how many waits make the edge). */
  private readonly edges = new Map<bigint, Map<bigint, { key: Buffer; count: number }>>();

  /**
   * Records that txn waits for waitFor (on key), unless waitFor already waits, directly
   * or through others, for txn: then nothing is recorded and the cycle is returned,
   * starting with the new edge.
   */
  tryAdd(txn: bigint, waitFor: bigint, key: Buffer): WaitForEntry[] | undefined {
    const path = this.pathFrom(waitFor, txn, new Set());
    if (path) return [{ txn, waitForTxn: waitFor, key }, ...path];
    let out = this.edges.get(txn);
    if (!out) this.edges.set(txn, (out = new Map()));
    const e = out.get(waitFor);
    if (e) e.count++;
    else out.set(waitFor, { key, count: 1 });
    return undefined;
  }

  remove(txn: bigint, waitFor: bigint): void {
    const out = this.edges.get(txn);
    const e = out?.get(waitFor);
    if (!out || !e) return;
    if (--e.count === 0) out.delete(waitFor);
    if (out.size === 0) this.edges.delete(txn);
  }

  /** A chain of edges from `from` to `to`, if one exists. */
  private pathFrom(from: bigint, to: bigint, seen: Set<bigint>): WaitForEntry[] | undefined {
    if (from === to) return [];
    if (seen.has(from)) return undefined;
    seen.add(from);
    for (const [next, e] of this.edges.get(from) ?? []) {
      const rest = this.pathFrom(next, to, seen);
      if (rest) return [{ txn: from, waitForTxn: next, key: e.key }, ...rest];
    }
    return undefined;
  }

  get size(): number {
    return this.edges.size;
  }
}

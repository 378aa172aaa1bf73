// Deadlock detection for waiting pessimistic lock requests (TiKV's deadlock detector,
// src/server/lock_manager/deadlock.rs): a wait-for graph of transactions, txn → the
// transaction whose lock it waits for. A wait that would close a cycle is refused with
// Deadlock instead of waiting out its timeout. One graph serves the whole cluster, in PD
// (src/pd/deadlock_detector.ts); each store keeps one too, for when PD cannot be asked
// (src/store/deadlock_detector.ts). In PD an edge expires after a TTL: a store that died
// mid-wait never sends its clean-up.

export interface WaitForEntry {
  txn: bigint;
  waitForTxn: bigint;
  key: Buffer;
}

interface Edge {
  key: Buffer;
  /** How many waits make the edge: it goes when the last one is removed. */
  count: number;
  /** When the edge goes by itself (ms; Infinity without a TTL). */
  expiresAtMs: number;
}

export class WaitForGraph {
  /** txn → (waited-for txn → the edge). */
  private readonly edges = new Map<bigint, Map<bigint, Edge>>();
  private edgeCount = 0;

  /** ttlMs: how long an edge lives after its last wait was added (default: until removed). */
  constructor(private readonly ttlMs = Infinity) {}

  /**
   * Records that txn waits for waitFor (on key), unless waitFor already waits, directly
   * or through others, for txn: then nothing is recorded and the cycle is returned,
   * starting with the new edge.
   */
  tryAdd(txn: bigint, waitFor: bigint, key: Buffer, nowMs = 0): WaitForEntry[] | undefined {
    const path = this.pathFrom(waitFor, txn, new Set());
    if (path) return [{ txn, waitForTxn: waitFor, key }, ...path];
    let out = this.edges.get(txn);
    if (!out) this.edges.set(txn, (out = new Map()));
    const e = out.get(waitFor);
    const expiresAtMs = nowMs + this.ttlMs;
    if (e) {
      e.count++;
      e.expiresAtMs = expiresAtMs;
    } else {
      out.set(waitFor, { key, count: 1, expiresAtMs });
      this.edgeCount++;
    }
    return undefined;
  }

  remove(txn: bigint, waitFor: bigint): void {
    const out = this.edges.get(txn);
    const e = out?.get(waitFor);
    if (!out || !e) return;
    if (--e.count === 0) this.drop(txn, out, waitFor);
  }

  /** Drops every edge whose TTL passed (all its waits at once). */
  expire(nowMs: number): void {
    for (const [txn, out] of this.edges) {
      for (const [waitFor, e] of out) if (e.expiresAtMs <= nowMs) this.drop(txn, out, waitFor);
    }
  }

  private drop(txn: bigint, out: Map<bigint, Edge>, waitFor: bigint): void {
    out.delete(waitFor);
    this.edgeCount--;
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

  /** Transactions that wait. */
  get size(): number {
    return this.edges.size;
  }

  /** Edges: distinct (txn, waited-for txn) pairs. */
  get edgeTotal(): number {
    return this.edgeCount;
  }
}

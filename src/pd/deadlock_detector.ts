// The cluster's deadlock detector (TiKV's, src/server/lock_manager/deadlock.rs): one
// wait-for graph that every store asks before a pessimistic lock request waits. A store's
// own graph sees only the waits on Regions it leads, so a cycle through two stores (txn A
// waits on store 1 for B, B waits on store 2 for A) would otherwise wait out its timeout.
//
// Why PD is its home: TiKV runs the detector on the leader of the Region that holds the
// first key, which needs leader tracking and a hand-over protocol of its own. NyxDB's PD
// is already the one coordinator every store and client talks to (TSO, Region map), and
// deadlock checks are rare — only a request that meets a lock and is about to wait asks.
// The graph is soft state: after a PD restart it starts empty and fills again as waits
// begin; a wait that began before the restart can at worst run to its timeout.
import { WaitForGraph, type WaitForEntry } from '../txn/wait_for_graph.js';
import { PdError, PdErrorCode } from './errors.js';
import { MAX_REGION_KEY_BYTES } from './trust_limits.js';

/**
 * An edge lives this long after it was added unless its wait cleans it up first. Waits
 * last at most 60 s (src/store/txn_kv.ts MAX_LOCK_WAIT_MS); a store that died mid-wait
 * never cleans up, and its edge must not fail unrelated transactions for long.
 */
export const DEADLOCK_EDGE_TTL_MS = 90_000;
/** Edges PD keeps at most; a store whose detect is refused falls back to its own graph. */
export const MAX_WAIT_FOR_EDGES = 100_000;
/** Expired edges are swept at most this often (the sweep visits every edge). */
const SWEEP_INTERVAL_MS = 1000;

export class ClusterDeadlockDetector {
  private readonly graph = new WaitForGraph(DEADLOCK_EDGE_TTL_MS);
  private lastSweepMs = -Infinity;
  /** Waits refused because they would have closed a cycle. */
  deadlocks = 0;

  constructor(private readonly now: () => number) {}

  /**
   * Records that txn waits for waitFor's lock on key, or returns the cycle the wait would
   * close (starting with this edge; nothing is recorded then).
   */
  detect(txn: bigint, waitFor: bigint, key: Buffer): WaitForEntry[] | undefined {
    if (txn === waitFor) throw invalid(`transaction ${txn} cannot wait for itself`);
    if (key.length > MAX_REGION_KEY_BYTES) {
      throw invalid(`key of ${key.length} bytes exceeds ${MAX_REGION_KEY_BYTES}`);
    }
    const now = this.now();
    if (now - this.lastSweepMs >= SWEEP_INTERVAL_MS) {
      this.graph.expire(now);
      this.lastSweepMs = now;
    }
    if (this.graph.edgeTotal >= MAX_WAIT_FOR_EDGES) {
      throw new PdError(
        PdErrorCode.LimitExceeded,
        `the wait-for graph holds ${MAX_WAIT_FOR_EDGES} edges already`,
      );
    }
    const cycle = this.graph.tryAdd(txn, waitFor, Buffer.from(key), now);
    if (cycle) this.deadlocks++;
    return cycle;
  }

  /** The wait of txn for waitFor ended (it got the lock, gave up, or was refused). */
  cleanUpWait(txn: bigint, waitFor: bigint): void {
    this.graph.remove(txn, waitFor);
  }

  get edges(): number {
    return this.graph.edgeTotal;
  }
}

function invalid(msg: string): PdError {
  return new PdError(PdErrorCode.InvalidArgument, msg);
}

// What a store asks before a pessimistic lock request waits for another transaction:
// would this wait close a cycle? The cluster's detector in PD sees every store's waits
// (src/pd/deadlock_detector.ts says why it lives there); when PD cannot answer, this
// store's own wait-for graph still catches the cycles among the Regions it leads, and a
// cycle through other stores runs to the lock wait's timeout (as before PD had one).
import { WaitForGraph, type WaitForEntry } from '../txn/wait_for_graph.js';

/** The cluster's detector as the store reaches it (PdClient implements it). */
export interface ClusterDeadlockService {
  detectDeadlock(txn: bigint, waitFor: bigint, key: Buffer): Promise<WaitForEntry[] | undefined>;
  cleanUpWait(txn: bigint, waitFor: bigint): Promise<void>;
}

/** One recorded wait: the cycle it would close (then nothing was recorded), or its release. */
export interface WaitRecord {
  cycle?: WaitForEntry[];
  /** The wait ended: remove its edge from wherever it was recorded. Idempotent. */
  release(): void;
}

export class DeadlockDetector {
  /** This store's own graph, used when there is no cluster detector or it fails. */
  readonly local = new WaitForGraph();
  /** Detections answered by the local graph because the cluster's detector failed. */
  fallbacks = 0;

  constructor(
    private readonly cluster?: ClusterDeadlockService,
    private readonly onFallback: (err: Error) => void = () => {},
  ) {}

  async detect(txn: bigint, waitFor: bigint, key: Buffer): Promise<WaitRecord> {
    if (this.cluster) {
      const cluster = this.cluster;
      try {
        const cycle = await cluster.detectDeadlock(txn, waitFor, key);
        if (cycle) return { cycle, release: () => {} };
        return once(() => {
          // A lost clean-up costs little: PD drops the edge after its TTL.
          cluster.cleanUpWait(txn, waitFor).catch(() => {});
        });
      } catch (e) {
        this.fallbacks++;
        this.onFallback(e as Error);
      }
    }
    const cycle = this.local.tryAdd(txn, waitFor, key);
    if (cycle) return { cycle, release: () => {} };
    return once(() => this.local.remove(txn, waitFor));
  }
}

function once(release: () => void): WaitRecord {
  let done = false;
  return {
    release: () => {
      if (done) return;
      done = true;
      release();
    },
  };
}

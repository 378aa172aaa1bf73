// What the chaos runner needs of a workload: its keys (where a split may cut), start and
// stop around the faults, and — once every fault healed — its final reads and checks.
// Three exist: rawkv (kv_chaos_workload.ts: linearizability and lost writes), bank and
// append (txn_chaos_workloads.ts: snapshot isolation, the bank invariant, lost commits).
import type { Failure } from './verify.js';

/**
 * The stated availability bound: after a fault heals (a killed process restarted and
 * ready, a paused one resumed, a partition lifted) every Region serves a write and a
 * read within this time. It covers an election (0.5–1 s), the clients' backoff, and
 * stores re-registering with a restarted PD, with room for a loaded 2-core machine.
 * The final reads of a workload get the same bound.
 */
export const AVAILABILITY_BOUND_MS = 10_000;

/** Initial Regions of a chaos cluster. */
export const REGIONS = 4;

/** Concurrent logical clients, sharing a few SDK clients. */
export const WORKERS = 16;
export const SDK_CLIENTS = 4;

export interface WorkloadVerdict {
  failures: Failure[];
  /** A few lines: what was done and checked. */
  summary: string;
}

export interface ChaosWorkload {
  /** Keys the workload reads and writes (or the first key of each of its records). */
  readonly keys: readonly string[];
  /** One line for the run's log. */
  describe(): string;
  /** Initial data, written before the first fault. */
  setup(): Promise<void>;
  start(): void;
  /** Lets every operation in flight end. */
  stop(): Promise<void>;
  /** Progress so far, for the timeline ("123 ops ok"). */
  progress(): string;
  /** After every fault healed: the final reads and every check of the history. */
  verify(): Promise<WorkloadVerdict>;
  /** Writes the history (and final reads) into a kept run directory. */
  keep(dir: string, rerun: string): void;
}

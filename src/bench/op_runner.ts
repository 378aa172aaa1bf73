// The closed-loop load generator over any operation: C workers, each with exactly one
// operation in flight, issue the next as soon as the last one answers. An operation is a
// named async function (a raw put, a whole transaction, a YCSB read-modify-write), so
// every workload shares the timing, warmup, progress and error accounting. Throughput is
// what the system sustains at that concurrency; latency is per operation as the caller
// sees it. Operations that complete inside the measured window are counted; failures
// are counted by kind and the worker pauses briefly (no hot spin on an outage).
import { ErrorCounter } from './errors.js';
import { latencyHistogram, type HistogramBucket } from './histogram.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { processCpuSec } from './proc_cpu.js';

export interface BenchOperation {
  /** What it is, for per-kind statistics ("read", "update", "transfer"). */
  kind: string;
  run: () => Promise<unknown>;
}

export interface OpRunOptions {
  concurrency: number;
  durationSec: number;
  warmupSec: number;
  /** Called about once a second. */
  onProgress?: (p: OpProgress) => void;
  /** How long to wait for in-flight operations after the end before giving up on them. */
  drainMs?: number;
  /**
   * The server processes under test: their CPU (/proc/<pid>/stat) over exactly the
   * measured window is reported, in total and per process (leader and followers apart).
   */
  serverPids?: number[];
}

export interface OpProgress {
  phase: 'warmup' | 'measure';
  /** Seconds since the phase started. */
  elapsedSec: number;
  /** Seconds left in the phase. */
  remainingSec: number;
  /** Operations completed in the last interval, per second. */
  opsPerSec: number;
  /** Errors since the start (warmup included). */
  errors: number;
}

export interface KindStats {
  ops: number;
  opsPerSec: number;
  latencyMs: LatencySummary;
}

export interface OpRunResult extends KindStats {
  concurrency: number;
  warmupSec: number;
  /** The measured window, in seconds (as timed, not as asked). */
  durationSec: number;
  /** Per operation kind, when there is more than one. */
  byKind: Record<string, KindStats>;
  histogram: HistogramBucket[];
  /** CPU seconds (user + system) of the load generator in the measured window, and per op. */
  clientCpuSec: number;
  clientCpuUsPerOp: number;
  /** CPU seconds of the server processes (serverPids) in the window; absent without them. */
  serverCpuSec?: number;
  serverCpuUsPerOp?: number;
  /** Each server process's CPU seconds in the window, by pid. */
  serverCpuSecByPid?: Record<string, number>;
  errors: number;
  errorKinds: Record<string, number>;
}

const ERROR_PAUSE_MS = 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runOperations(
  next: () => BenchOperation,
  opts: OpRunOptions,
): Promise<OpRunResult> {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
    throw new Error('concurrency must be at least 1');
  if (!(opts.durationSec > 0)) throw new Error('duration must be positive');
  const byKind = new Map<string, LatencyRecorder>();
  const errors = new ErrorCounter();
  let allErrors = 0;
  let intervalOps = 0;
  let measuring = false;
  let stopped = false;
  let measureStart = 0;
  let measureEnd = Infinity;
  let cpuAtStart = process.cpuUsage();
  const serverPids = opts.serverPids ?? [];
  let serverAtStart: number[] = [];

  const worker = async (): Promise<void> => {
    while (!stopped) {
      const op = next();
      const t0 = performance.now();
      try {
        await op.run();
        const t1 = performance.now();
        intervalOps++;
        if (measuring && t1 <= measureEnd) {
          let rec = byKind.get(op.kind);
          if (!rec) byKind.set(op.kind, (rec = new LatencyRecorder()));
          rec.record(t1 - t0);
        }
      } catch (e) {
        allErrors++;
        if (measuring && performance.now() <= measureEnd) errors.add(e);
        await sleep(ERROR_PAUSE_MS);
      }
    }
  };

  let phase: OpProgress['phase'] = opts.warmupSec > 0 ? 'warmup' : 'measure';
  let phaseStart = performance.now();
  let phaseSec = opts.warmupSec > 0 ? opts.warmupSec : opts.durationSec;
  let lastTick = phaseStart;
  const ticker = setInterval(() => {
    const now = performance.now();
    const rate = (intervalOps * 1000) / (now - lastTick);
    intervalOps = 0;
    lastTick = now;
    const elapsedSec = (now - phaseStart) / 1000;
    opts.onProgress?.({
      phase,
      elapsedSec,
      remainingSec: Math.max(0, phaseSec - elapsedSec),
      opsPerSec: rate,
      errors: allErrors,
    });
  }, 1000);

  let cpu = { user: 0, system: 0 };
  let serverCpu: number[] = [];
  const workers = Array.from({ length: opts.concurrency }, () => worker());
  try {
    if (opts.warmupSec > 0) await sleep(opts.warmupSec * 1000);
    phase = 'measure';
    phaseSec = opts.durationSec;
    measureStart = phaseStart = performance.now();
    measureEnd = measureStart + opts.durationSec * 1000;
    measuring = true;
    cpuAtStart = process.cpuUsage();
    serverAtStart = processCpuSec(serverPids);
    await sleep(opts.durationSec * 1000);
    measuring = false;
    cpu = process.cpuUsage(cpuAtStart);
    serverCpu = processCpuSec(serverPids).map((v, i) => v - serverAtStart[i]!);
  } finally {
    stopped = true;
    clearInterval(ticker);
  }
  // Operations still in flight finish unrecorded; a hung one is not waited for forever.
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(workers),
    new Promise<void>((r) => (drainTimer = setTimeout(r, opts.drainMs ?? 5_000))),
  ]);
  clearTimeout(drainTimer);

  const seconds = (measureEnd - measureStart) / 1000;
  const stats = (rec: LatencyRecorder): KindStats => ({
    ops: rec.count,
    opsPerSec: rec.count / seconds,
    latencyMs: rec.summary(),
  });
  const all = new LatencyRecorder();
  for (const rec of byKind.values()) all.merge(rec);
  const cpuUs = cpu.user + cpu.system;
  return {
    concurrency: opts.concurrency,
    warmupSec: opts.warmupSec,
    durationSec: seconds,
    ...stats(all),
    byKind: Object.fromEntries([...byKind].sort().map(([k, rec]) => [k, stats(rec)])),
    histogram: latencyHistogram(all),
    clientCpuSec: cpuUs / 1e6,
    clientCpuUsPerOp: all.count > 0 ? cpuUs / all.count : NaN,
    ...(serverPids.length > 0 ? serverCpuFields(serverPids, serverCpu, all.count) : {}),
    errors: errors.total,
    errorKinds: errors.byKind(),
  };
}

function serverCpuFields(
  pids: number[],
  cpu: number[],
  ops: number,
): Pick<OpRunResult, 'serverCpuSec' | 'serverCpuUsPerOp' | 'serverCpuSecByPid'> {
  const total = cpu.reduce((a, b) => a + b, 0);
  return {
    serverCpuSec: total,
    serverCpuUsPerOp: ops > 0 ? (total * 1e6) / ops : NaN,
    serverCpuSecByPid: Object.fromEntries(pids.map((p, i) => [String(p), cpu[i]!])),
  };
}

// The closed-loop load generator: C workers, each with exactly one operation in flight,
// issue the next as soon as the last one answers. Throughput is what the system under
// test sustains at that concurrency; latency is per operation as the caller sees it,
// client-side queueing and batching included. A warmup period runs the same load
// unrecorded (connections, JIT, caches); then operations that complete inside the
// measured window are counted and timed. Failures are counted by kind and the worker
// pauses briefly, so an unavailable store produces an error count, not a hot spin.
import { ErrorCounter } from './errors.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { processCpuSec } from './proc_cpu.js';
import type { KvTarget } from './target.js';
import type { BenchOp, Workload } from './workload.js';

export interface RunOptions {
  concurrency: number;
  durationSec: number;
  warmupSec: number;
  /** Called about once a second. */
  onProgress?: (p: Progress) => void;
  /** How long to wait for in-flight operations after the end before giving up on them. */
  drainMs?: number;
  /**
   * The server processes under test: their CPU (/proc/<pid>/stat) over exactly the
   * measured window is reported, in total and per process (leader and followers apart).
   */
  serverPids?: number[];
}

export interface Progress {
  phase: 'warmup' | 'measure';
  /** Seconds since the phase started. */
  elapsedSec: number;
  /** Operations completed in the last interval, per second. */
  opsPerSec: number;
  /** Errors since the start (warmup included). */
  errors: number;
}

export interface OpStats {
  ops: number;
  opsPerSec: number;
  latencyMs: LatencySummary;
}

export interface BenchResult extends OpStats {
  op: BenchOp;
  concurrency: number;
  keys: number;
  valueSize: number;
  readRatio: number;
  warmupSec: number;
  /** The measured window, in seconds (as timed, not as asked). */
  durationSec: number;
  /** For a mixed run: gets and puts separately. */
  byOp?: { get: OpStats; put: OpStats };
  /**
   * CPU seconds (user + system) the load generator's own process used in the measured
   * window, and per operation: on a machine whose cores the servers share, the client's
   * cost is part of the result.
   */
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

export async function runClosedLoop(
  target: KvTarget,
  workload: Workload,
  opts: RunOptions,
): Promise<BenchResult> {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
    throw new Error('concurrency must be at least 1');
  if (!(opts.durationSec > 0)) throw new Error('duration must be positive');
  const gets = new LatencyRecorder();
  const puts = new LatencyRecorder();
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
      const isGet = workload.nextIsGet();
      const key = workload.randomKey();
      const t0 = performance.now();
      try {
        if (isGet) await target.get(key);
        else await target.put(key, workload.value());
        const t1 = performance.now();
        intervalOps++;
        if (measuring && t1 <= measureEnd) (isGet ? gets : puts).record(t1 - t0);
      } catch (e) {
        allErrors++;
        if (measuring && performance.now() <= measureEnd) errors.add(e);
        await sleep(ERROR_PAUSE_MS);
      }
    }
  };

  let phase: Progress['phase'] = opts.warmupSec > 0 ? 'warmup' : 'measure';
  let phaseStart = performance.now();
  let lastTick = phaseStart;
  const ticker = setInterval(() => {
    const now = performance.now();
    const rate = (intervalOps * 1000) / (now - lastTick);
    intervalOps = 0;
    lastTick = now;
    opts.onProgress?.({
      phase,
      elapsedSec: (now - phaseStart) / 1000,
      opsPerSec: rate,
      errors: allErrors,
    });
  }, 1000);

  const startMeasuring = () => {
    phase = 'measure';
    measureStart = phaseStart = performance.now();
    measureEnd = measureStart + opts.durationSec * 1000;
    measuring = true;
    cpuAtStart = process.cpuUsage();
    serverAtStart = processCpuSec(serverPids);
  };

  let cpu = { user: 0, system: 0 };
  let serverCpu: number[] = [];
  const workers = Array.from({ length: opts.concurrency }, () => worker());
  try {
    if (opts.warmupSec > 0) await sleep(opts.warmupSec * 1000);
    startMeasuring();
    await sleep(opts.durationSec * 1000);
    measuring = false;
    stopped = true;
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
  const stats = (rec: LatencyRecorder): OpStats => ({
    ops: rec.count,
    opsPerSec: rec.count / seconds,
    latencyMs: rec.summary(),
  });
  const all = new LatencyRecorder(gets.count + puts.count);
  all.merge(gets);
  all.merge(puts);
  return {
    op: workload.op,
    concurrency: opts.concurrency,
    keys: workload.keys,
    valueSize: workload.valueSize,
    readRatio: workload.readRatio,
    warmupSec: opts.warmupSec,
    durationSec: seconds,
    ...stats(all),
    ...(workload.op === 'mixed' ? { byOp: { get: stats(gets), put: stats(puts) } } : {}),
    clientCpuSec: (cpu.user + cpu.system) / 1e6,
    clientCpuUsPerOp: all.count > 0 ? (cpu.user + cpu.system) / all.count : NaN,
    ...(serverPids.length > 0 ? serverCpuFields(serverPids, serverCpu, all.count) : {}),
    errors: errors.total,
    errorKinds: errors.byKind(),
  };
}

function serverCpuFields(
  pids: number[],
  cpu: number[],
  ops: number,
): Pick<BenchResult, 'serverCpuSec' | 'serverCpuUsPerOp' | 'serverCpuSecByPid'> {
  const total = cpu.reduce((a, b) => a + b, 0);
  return {
    serverCpuSec: total,
    serverCpuUsPerOp: ops > 0 ? (total * 1e6) / ops : NaN,
    serverCpuSecByPid: Object.fromEntries(pids.map((p, i) => [String(p), cpu[i]!])),
  };
}

// The measured writes of `nyx bench split`: C workers put small values without pause, one
// put in flight each (closed loop, like `nyx bench raw`), for the whole benchmark; windows
// are cut out of that one continuous load instead of restarting it, so every window sees
// the same warmed-up clients, connections and Region caches. A write belongs to the window
// it completes in (as in op_runner.ts). Errors are counted by kind and the worker pauses
// briefly; they never stop the load.
import { ErrorCounter } from './errors.js';
import { LatencyRecorder } from './latency.js';
import type { WriteWindow } from './split_bench_stats.js';

export interface WindowedLoadOptions {
  concurrency: number;
  put: (key: Buffer, value: Buffer) => Promise<void>;
  /** The key of worker w's i-th write. */
  keyOf: (worker: number, i: number) => Buffer;
  value: Buffer;
}

interface OpenWindow {
  startMs: number;
  latency: LatencyRecorder;
  errors: ErrorCounter;
}

const ERROR_PAUSE_MS = 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WindowedWriteLoad {
  private stopped = false;
  private workers: Promise<void>[] = [];
  private open: OpenWindow | undefined;

  constructor(private readonly o: WindowedLoadOptions) {
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
      throw new Error('concurrency must be at least 1');
  }

  start(): void {
    if (this.workers.length > 0) throw new Error('the load is already running');
    this.workers = Array.from({ length: this.o.concurrency }, (_, w) => this.worker(w));
  }

  private async worker(w: number): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const t0 = performance.now();
      try {
        await this.o.put(this.o.keyOf(w, i), this.o.value);
        this.open?.latency.record(performance.now() - t0);
      } catch (e) {
        this.open?.errors.add(e);
        await sleep(ERROR_PAUSE_MS);
      }
    }
  }

  /** Starts recording; throws if a window is open already (windows never overlap). */
  beginWindow(): void {
    if (this.open) throw new Error('a window is open already');
    this.open = {
      startMs: performance.now(),
      latency: new LatencyRecorder(),
      errors: new ErrorCounter(),
    };
  }

  /**
   * One window of `ms` or a little more. Timers count whole milliseconds of the event
   * loop's clock, so `setTimeout(ms)` alone can close the window up to a millisecond short
   * by the real clock: wait on until the real clock is past the end.
   */
  async windowOf(ms: number): Promise<WriteWindow> {
    this.beginWindow();
    const end = this.open!.startMs + ms;
    for (let left = ms; left > 0; left = end - performance.now()) await sleep(Math.ceil(left));
    return this.endWindow();
  }

  /** Ends the open window and sums it up. */
  endWindow(): WriteWindow {
    const w = this.open;
    if (!w) throw new Error('no window is open');
    this.open = undefined;
    const seconds = (performance.now() - w.startMs) / 1000;
    return {
      seconds,
      ops: w.latency.count,
      opsPerSec: w.latency.count / seconds,
      latencyMs: w.latency.summary(),
      errors: w.errors.total,
      errorKinds: w.errors.byKind(),
    };
  }

  /** Stops the workers; waits for in-flight writes up to drainMs. */
  async stop(drainMs = 5_000): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.workers),
      new Promise<void>((r) => (timer = setTimeout(r, drainMs))),
    ]);
    clearTimeout(timer);
  }
}

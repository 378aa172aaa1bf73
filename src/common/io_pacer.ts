// A byte-rate limit for background I/O on a worker thread (TiKV limits snapshot and
// split I/O the same way: snap-io-max-bytes-per-sec). A job that writes in chunks calls
// the pacer after each chunk; the pacer blocks the thread until the bytes so far are
// within the rate. The disk then serves the stores' log fsyncs between the chunks, and
// the job's CPU is spread over the copy instead of taken in one burst beside the loops.

/** Called after each chunk written, with its size in bytes. */
export type IoPacer = (bytes: number) => void;

/**
 * A pacer that sleeps the calling thread (Atomics.wait): only for worker threads, never
 * the event loop. A rate of 0 or less is no limit.
 */
export function blockingIoPacer(bytesPerSec: number, now = () => performance.now()): IoPacer {
  if (!(bytesPerSec > 0)) return () => {};
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const start = now();
  let total = 0;
  return (bytes) => {
    total += bytes;
    const wait = start + (total / bytesPerSec) * 1000 - now();
    if (wait >= 1) Atomics.wait(cell, 0, 0, wait);
  };
}

// One request answered on a fresh worker thread, at a lower priority than the loop: how the
// store runs work that would stall its event loop (a split's copy and cut, a snapshot's
// VACUUM INTO). The worker loads the module that asked; that module answers with
// onWorkerJob(). Workers are tagged with the job's name: a module that answers one job is
// also imported, indirectly, by the workers of other jobs, and must not answer their
// requests.
import fs from 'node:fs';
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/**
 * The nice value of a job's thread. Jobs are background work (a split's copy, a snapshot
 * file) on a machine whose cores the store loops need for every Region's latency: with
 * CFS a thread at nice 10 gets about a tenth of a busy core's share beside one at 0, and
 * all of an idle one. TiKV runs such work in pools of lower priority too.
 */
export const WORKER_NICE = 10;

/**
 * Lower the calling thread's priority (Linux: a thread id is a pid to setpriority(2), and
 * /proc/thread-self names it). Elsewhere, or if refused, the job runs at normal priority.
 */
function lowerThisThreadsPriority(nice: number): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, nice);
  } catch {
    // not Linux, or not permitted: normal priority
  }
}

type Reply<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Run `job` of the module at `module` (its import.meta.url) on a new worker thread with
 * `req`; resolves with the answer, or rejects with "<job> failed: …" or when the worker
 * dies. Arguments and answers cross by structured clone (Buffers arrive as Uint8Arrays).
 */
export function runWorkerJob<Req, Res>(module: string | URL, job: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(module), { workerData: { job } });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    worker.once('message', (m: Reply<Res>) => {
      void worker.terminate();
      settle(() => (m.ok ? resolve(m.value) : reject(new Error(`${job} failed: ${m.error}`))));
    });
    worker.once('error', (e) => settle(() => reject(e)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`${job} worker exited with ${code}`))),
    );
    worker.postMessage(req);
  });
}

/** In a worker started by runWorkerJob for `job`: answer its one request with `handle`. */
export function onWorkerJob<Req, Res>(job: string, handle: (req: Req) => Res): void {
  if (isMainThread || !parentPort) return;
  if ((workerData as { job?: string } | null)?.job !== job) return;
  const port = parentPort;
  lowerThisThreadsPriority(WORKER_NICE);
  port.once('message', (req: Req) => {
    let reply: Reply<Res>;
    try {
      reply = { ok: true, value: handle(req) };
    } catch (e) {
      reply = { ok: false, error: (e as Error).message };
    }
    port.postMessage(reply);
  });
}

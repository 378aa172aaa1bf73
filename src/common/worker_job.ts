// One request answered on a fresh worker thread: how the store runs work that would stall
// its event loop (a split's copy, a snapshot's VACUUM INTO). The worker loads the module
// that asked; that module answers with onWorkerJob(). Workers are tagged with the job's
// name: a module that answers one job is also imported, indirectly, by the workers of
// other jobs, and must not answer their requests.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

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

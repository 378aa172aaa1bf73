// Step 1 of a split (copySplitData, split_apply.ts) on a worker thread, so that the store
// loop goes on serving every other Region while a big Region's halves are copied: the
// worker opens its own SQLite connections to the parent's file (WAL: readers and the
// loop's writer do not block each other) and to the new Regions' files. The parent's
// rows in the copied ranges cannot change meanwhile: the parent peer applies nothing
// after the split entry until the copy is done (peer.ts), and no other peer writes them.
// A crash while the worker runs is a crash in step 1: the parent replays the split.
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { Region } from '../region/meta.js';
import { RegionEngine } from '../storage/region_engine.js';
import { copySplitData } from './split_apply.js';

interface CopyRequest {
  dataDir: string;
  parentId: number;
  created: Region[];
}

type CopyReply = { ok: true; skipped: number[] } | { ok: false; error: string };

/** Copy the new Regions' data on a fresh worker thread; resolves with the skipped ids. */
export function copySplitOffLoop(req: CopyRequest): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url));
    let settled = false;
    worker.once('message', (m: CopyReply) => {
      settled = true;
      void worker.terminate();
      if (m.ok) resolve(m.skipped);
      else reject(new Error(`split copy failed: ${m.error}`));
    });
    worker.once('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`split copy worker exited with ${code}`));
      settled = true;
    });
    worker.postMessage(req);
  });
}

function fromClone(r: Region): Region {
  return {
    ...r,
    startKey: Buffer.from(r.startKey),
    endKey: Buffer.from(r.endKey),
    epoch: { ...r.epoch },
    peers: r.peers.map((p) => ({ ...p })),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.once('message', (req: CopyRequest) => {
    const engines: RegionEngine[] = [];
    const open = (id: number) => {
      const e = new RegionEngine(req.dataDir, id);
      engines.push(e);
      return e;
    };
    let reply: CopyReply;
    try {
      const skipped = copySplitData(open(req.parentId), req.created.map(fromClone), open);
      reply = { ok: true, skipped };
    } catch (e) {
      reply = { ok: false, error: (e as Error).message };
    } finally {
      for (const e of engines) e.close();
    }
    port.postMessage(reply);
  });
}

// A Region snapshot file written on a worker thread, so that the store loop goes on
// serving every Region while a big one is copied (VACUUM INTO reads the whole file, and
// the fsync that follows waits for the disk). The worker opens its own connection to the
// Region's file: in WAL mode its read transaction sees one consistent state of the Region
// (data, Region meta and apply state together) while the loop keeps applying. The file is
// written whole or not at all (region_snapshot.ts); a crash meanwhile leaves a temporary
// file that the store removes from snap/ at start.
import fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Region } from '../region/meta.js';
import { regionDbPath, snapDir } from '../storage/paths.js';
import {
  readSnapshotFileState,
  writeSnapshotFile,
  type SnapshotFileInfo,
} from '../storage/region_snapshot.js';
import { SyncMode, openDatabase } from '../storage/sqlite.js';

interface ExportRequest {
  dataDir: string;
  regionId: number;
}

/** The file, and the Region as its meta says at the file's apply index. */
export interface ExportedSnapshot {
  info: SnapshotFileInfo;
  region: Region;
}

type ExportReply = { ok: true; snapshot: ExportedSnapshot } | { ok: false; error: string };

/**
 * Marks a worker started for this job: other workers (a split's copy) load this module
 * through their imports too, and must not answer their own requests with an export.
 */
const JOB = 'nyx-snapshot-export';

/** Write a snapshot file of the Region on a fresh worker thread. */
export function exportSnapshotOffLoop(req: ExportRequest): Promise<ExportedSnapshot> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { job: JOB } });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    worker.once('message', (m: ExportReply) => {
      void worker.terminate();
      settle(() =>
        m.ok
          ? resolve({ info: m.snapshot.info, region: regionFromClone(m.snapshot.region) })
          : reject(new Error(`snapshot export failed: ${m.error}`)),
      );
    });
    worker.once('error', (e) => settle(() => reject(e)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`snapshot worker exited with ${code}`))),
    );
    worker.postMessage(req);
  });
}

/** Buffers cross the thread boundary as plain Uint8Arrays. */
function regionFromClone(r: Region): Region {
  return {
    ...r,
    startKey: Buffer.from(r.startKey),
    endKey: Buffer.from(r.endKey),
    epoch: { ...r.epoch },
    peers: r.peers.map((p) => ({ ...p })),
  };
}

/** What the worker does; exported for a test on the calling thread. */
export function exportSnapshotFile(req: ExportRequest): ExportedSnapshot {
  const file = regionDbPath(req.dataDir, req.regionId);
  // Never create the file: the Region may have been destroyed since the build started.
  if (!fs.existsSync(file)) throw new Error(`region ${req.regionId} has no file here`);
  const db = openDatabase(file, { sync: SyncMode.Normal });
  try {
    const info = writeSnapshotFile(db, req.regionId, snapDir(req.dataDir));
    const { region } = readSnapshotFileState(info.path, req.regionId);
    if (!region) throw new Error(`region ${req.regionId}: snapshot without a Region meta`);
    return { info, region: region.region };
  } finally {
    db.close();
  }
}

if (!isMainThread && parentPort && (workerData as { job?: string } | null)?.job === JOB) {
  const port = parentPort;
  port.once('message', (req: ExportRequest) => {
    let reply: ExportReply;
    try {
      reply = { ok: true, snapshot: exportSnapshotFile(req) };
    } catch (e) {
      reply = { ok: false, error: (e as Error).message };
    }
    port.postMessage(reply);
  });
}

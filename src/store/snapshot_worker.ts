// A Region snapshot file written on a worker thread, so that the store loop goes on
// serving every Region while a big one is copied (VACUUM INTO reads the whole file, and
// the fsync that follows waits for the disk). The worker opens its own connection to the
// Region's file: in WAL mode its read transaction sees one consistent state of the Region
// (data, Region meta and apply state together) while the loop keeps applying. The file is
// written whole or not at all (region_snapshot.ts); a crash meanwhile leaves a temporary
// file that the store removes from snap/ at start.
import fs from 'node:fs';
import { onWorkerJob, runWorkerJob } from '../common/worker_job.js';
import { Region, cloneRegion } from '../region/meta.js';
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

const JOB = 'snapshot export';

/** Write a snapshot file of the Region on a fresh worker thread. */
export async function exportSnapshotOffLoop(req: ExportRequest): Promise<ExportedSnapshot> {
  const s = await runWorkerJob<ExportRequest, ExportedSnapshot>(import.meta.url, JOB, req);
  // Buffers cross the thread boundary as plain Uint8Arrays.
  return { info: s.info, region: cloneRegion(s.region) };
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

onWorkerJob(JOB, exportSnapshotFile);

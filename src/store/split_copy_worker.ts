// Step 1 of a split (copySplitData, split_apply.ts) on a worker thread, so that the store
// loop goes on serving every other Region while a big Region's halves are copied: the
// worker opens its own SQLite connections to the parent's file (WAL: readers and the
// loop's writer do not block each other) and to the new Regions' files. The parent's
// rows in the copied ranges cannot change meanwhile: the parent peer applies nothing
// after the split entry until the copy is done (peer.ts), and no other peer writes them.
// A crash while the worker runs is a crash in step 1: the parent replays the split.
import { runWorkerJob, onWorkerJob } from '../common/worker_job.js';
import { Region, cloneRegion } from '../region/meta.js';
import { RegionEngine } from '../storage/region_engine.js';
import { copySplitData } from './split_apply.js';

export interface CopyRequest {
  dataDir: string;
  parentId: number;
  created: Region[];
}

/** Runs step 1 of a split somewhere other than the loop; resolves with the skipped ids. */
export type SplitCopier = (req: CopyRequest) => Promise<number[]>;

const JOB = 'split copy';

/** Copy the new Regions' data on a fresh worker thread; resolves with the skipped ids. */
export function copySplitOffLoop(req: CopyRequest): Promise<number[]> {
  return runWorkerJob(import.meta.url, JOB, req);
}

onWorkerJob(JOB, copySplitOnOwnConnections);

/** Step 1 on connections of its own to the parent's and the new Regions' files. */
export function copySplitOnOwnConnections(req: CopyRequest): number[] {
  const engines: RegionEngine[] = [];
  const open = (id: number) => {
    const e = new RegionEngine(req.dataDir, id);
    engines.push(e);
    return e;
  };
  try {
    return copySplitData(open(req.parentId), req.created.map(cloneRegion), open);
  } finally {
    for (const e of engines) e.close();
  }
}

// Steps 1 and 2 of a split (split_apply.ts) on worker threads, so that the store loop
// goes on serving every other Region while a big Region's halves are copied (step 1) and
// the moved half is deleted from the parent (step 2: for a 64 MiB Region, tens of
// thousands of rows and as many pages written, which on the loop stalled every Region of
// the store). Each job opens its own SQLite connections to the files (WAL: readers and
// the loop's connection do not block each other). Nothing else writes the parent's file
// meanwhile: the parent peer applies nothing after the split entry, serves no read and
// takes no snapshot until both steps are done (peer.ts), and step 2 checks, in its own
// write transaction, that the file is still at the entry before the split. A crash while
// a job runs is a crash in that step (split_apply.ts says what each leaves).
import { runWorkerJob, onWorkerJob } from '../common/worker_job.js';
import { Region, cloneRegion } from '../region/meta.js';
import { RegionEngine } from '../storage/region_engine.js';
import { commitSplitParentIfAt, copySplitData } from './split_apply.js';

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

export interface ParentCommitRequest {
  dataDir: string;
  split: { parent: Region; created: Region[] };
  apply: { index: number; term: number };
  /** The parent's apply state before the split entry: the file must still be there. */
  before: { appliedIndex: number; appliedTerm: number };
}

/** Runs step 2 of a split somewhere other than the loop; resolves with whether it wrote. */
export type SplitParentCommitter = (req: ParentCommitRequest) => Promise<boolean>;

const PARENT_JOB = 'split parent commit';

/** Step 2 on a fresh worker thread. */
export function commitSplitParentOffLoop(req: ParentCommitRequest): Promise<boolean> {
  return runWorkerJob(import.meta.url, PARENT_JOB, req);
}

onWorkerJob(PARENT_JOB, commitSplitParentOnOwnConnection);

/** Step 2 on a connection of its own to the parent's file. */
export function commitSplitParentOnOwnConnection(req: ParentCommitRequest): boolean {
  const split = {
    parent: cloneRegion(req.split.parent),
    created: req.split.created.map(cloneRegion),
  };
  const engine = new RegionEngine(req.dataDir, split.parent.id);
  try {
    return commitSplitParentIfAt(engine, split, req.apply, req.before);
  } finally {
    engine.close();
  }
}

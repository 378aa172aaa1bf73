// A worker job for worker_job.test.ts: answers with its own thread's nice value, or fails
// when asked to.
import fs from 'node:fs';
import os from 'node:os';
import { onWorkerJob } from '../../src/common/worker_job.js';

export const NICE_JOB = 'thread nice';

onWorkerJob(NICE_JOB, (req: { fail?: string }) => {
  if (req.fail) throw new Error(req.fail);
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  return os.getPriority(tid);
});

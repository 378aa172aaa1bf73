// Worker jobs: the answer crosses back, a failure becomes a rejection naming the job, and
// the job's thread runs below the loop's priority.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { WORKER_NICE, runWorkerJob } from '../../src/common/worker_job.js';
import { NICE_JOB } from './thread_nice_job.js';

const JOB_MODULE = new URL('./thread_nice_job.js', import.meta.url);

test(
  'a job runs at WORKER_NICE on a thread of its own; the loop keeps its priority',
  { skip: process.platform !== 'linux' },
  async () => {
    const before = os.getPriority();
    const nice = await runWorkerJob<object, number>(JOB_MODULE, NICE_JOB, {});
    assert.equal(nice, Math.max(WORKER_NICE, before));
    assert.equal(os.getPriority(), before, 'the process (its main thread) is not lowered');
  },
);

test('a job that throws rejects with the job name and its message', async () => {
  await assert.rejects(
    runWorkerJob(JOB_MODULE, NICE_JOB, { fail: 'disk on fire' }),
    /thread nice failed: disk on fire/,
  );
});

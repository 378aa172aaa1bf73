// A stage tracer for following one request through every process of a cluster: client
// send, the leader's receive, propose, log write, the follower's write, the ack, apply,
// the answer. Off and free by default (one boolean test per call site); NYX_TRACE=<dir>
// turns it on in every process that inherits the variable, and each process then appends
// `<µs> <stage>` lines to <dir>/<pid>.trace. The clock is CLOCK_MONOTONIC
// (process.hrtime), which Linux shares between processes, so the files of a client and
// of three stores merge into one timeline (bench/trace-stages.ts reads them).
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env['NYX_TRACE'];

/** Whether stages are recorded in this process. */
export const tracing: boolean = dir !== undefined && dir !== '';

let lines: string[] = [];
let file: string | undefined;

function flush(): void {
  if (lines.length === 0 || !file) return;
  const text = lines.join('\n') + '\n';
  lines = [];
  fs.appendFileSync(file, text);
}

if (tracing) {
  fs.mkdirSync(dir!, { recursive: true });
  file = path.join(dir!, `${process.pid}.trace`);
  // Unref'd: the tracer never keeps a process alive. Killed processes lose at most
  // the last half second, which the reader tolerates (an incomplete request is skipped).
  setInterval(flush, 500).unref();
  process.on('exit', flush);
}

/** A Raft message's stage name: its type, with `+` when it carries entries. */
export function messageStage(prefix: string, type: string, entries: number): string {
  return `${prefix}.${type}${entries > 0 ? '+' : ''}`;
}

/** Record that `stage` happened now (a no-op unless NYX_TRACE is set). */
export function trace(stage: string): void {
  if (!tracing) return;
  lines.push(`${process.hrtime.bigint() / 1000n} ${stage}`);
}

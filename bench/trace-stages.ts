// Where one put's time goes, stage by stage, across the client and every store. Run a
// closed-loop load at concurrency 1 with NYX_TRACE=<dir> set for every process (the
// tracer, src/common/trace.ts, writes one file per process), then:
//   node dist/bench/trace-stages.js <dir> [--json]
// The files share one clock (CLOCK_MONOTONIC). Each `client.send` opens a request's
// window, which ends at its `client.recv`; within it the first occurrence of every
// stage is taken, as µs after the send. At concurrency 1 nothing else is in flight, so a
// window holds exactly one put's path (stages a window lacks — a heartbeat turn, say —
// simply do not count). Printed: every stage's median and p90 offset, in median order, and
// how many windows saw it. L. / F. name a turn on the leader's / a follower's store;
// send.X / recv.X a Raft message of type X (+ when it carries entries).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface Event {
  us: number;
  stage: string;
}

function readEvents(dir: string): Event[] {
  const events: Event[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.trace')) continue;
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp < 0) continue;
      events.push({ us: Number(line.slice(0, sp)), stage: line.slice(sp + 1) });
    }
  }
  return events.sort((a, b) => a.us - b.us);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * One put's critical path at concurrency 1: each stage is the first occurrence after the
 * latest of its anchors (the leader's own log write runs beside the follower's).
 */
const PATH: [stage: string, after: string[]][] = [
  ['client.write', ['client.send']],
  ['kv.recv', ['client.write']],
  ['propose', ['kv.recv']],
  ['L.ready', ['propose']],
  ['send.App+', ['L.ready']],
  ['L.log_write_start', ['send.App+']],
  ['L.log_write_end', ['L.log_write_start']],
  ['recv.App+', ['send.App+']],
  ['F.ready', ['recv.App+']],
  ['F.log_write_start', ['F.ready']],
  ['F.log_write_end', ['F.log_write_start']],
  ['send.AppResp', ['F.log_write_end']],
  ['recv.AppResp', ['send.AppResp']],
  ['L.apply_start', ['recv.AppResp', 'L.log_write_end']],
  ['L.apply_end', ['L.apply_start']],
  ['kv.answer', ['L.apply_end']],
  ['kv.write', ['kv.answer']],
  ['client.recv', ['kv.write']],
];

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: trace-stages <dir> [--json]');
  const events = readEvents(dir);
  const records: Map<string, number>[] = [];
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.stage !== 'client.send') continue;
    const start = events[i]!.us;
    let end = events.length;
    for (let j = i + 1; j < events.length; j++) {
      const s = events[j]!.stage;
      if (s === 'client.send') {
        end = j; // another request began: this one never completed in the trace
        break;
      }
      if (s === 'client.recv') {
        end = j + 1;
        break;
      }
    }
    const at = new Map<string, number>([['client.send', start]]);
    for (const [stage, after] of PATH) {
      const from = Math.max(...after.map((a) => at.get(a) ?? Infinity));
      if (!Number.isFinite(from)) break;
      for (let j = i + 1; j < end; j++) {
        const e = events[j]!;
        if (e.stage === stage && e.us >= from) {
          at.set(stage, e.us);
          break;
        }
      }
    }
    if (at.size === PATH.length + 1) records.push(at);
  }
  const sorted = (f: (r: Map<string, number>) => number) => records.map(f).sort((x, y) => x - y);
  const rows = PATH.map(([stage, after]) => {
    const offset = sorted((r) => r.get(stage)! - r.get('client.send')!);
    // The stage's own share: from the latest of its anchors to it, per request.
    const step = sorted((r) => r.get(stage)! - Math.max(...after.map((a) => r.get(a)!)));
    return {
      stage,
      after: after.join(' | '),
      p50: quantile(offset, 0.5),
      p90: quantile(offset, 0.9),
      stepP50: quantile(step, 0.5),
      stepP90: quantile(step, 0.9),
    };
  });
  if (values.json) {
    process.stdout.write(JSON.stringify({ requests: records.length, rows }, null, 2) + '\n');
    return;
  }
  if (records.length === 0) throw new Error(`no complete request in ${dir}`);
  process.stdout.write(
    `${records.length} requests; µs after client.send (p50, p90), and the step from its anchor\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.stage.padEnd(18)} ${String(r.p50).padStart(6)} ${String(r.p90).padStart(6)}` +
        `   step ${String(r.stepP50).padStart(6)} ${String(r.stepP90).padStart(6)}  after ${r.after}\n`,
    );
  }
}

main();

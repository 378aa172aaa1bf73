// NyxDB and etcd side by side on this machine, back to back: a NyxDB playground (PD + 3
// stores, one Region) driven by `nyx bench raw` in its own process, then the etcd
// reference (bench/etcd-reference.ts), for the same cases, each run --runs times. Prints
// the load average before each half, the medians, and NyxDB/etcd ratios.
//
// Usage: node dist/bench/compare.js [--cases put@256,get@256,put@1,get@1] [--runs 3]
//          [--duration 10] [--warmup 2] [--value-size 100] [--keys 10000] [--out FILE]
//          [--skip-etcd] [--skip-nyx]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { BenchResult } from '../src/bench/runner.js';
import { summarize, type CaseSummary } from '../src/bench/summary.js';
import { renderTable } from '../src/cli/output.js';
import { freePortRange } from '../src/common/free_port.js';
import { Playground } from '../src/server/playground.js';

const execFileAsync = promisify(execFile);
// The benchmark child running now, and the cleanup of what is up: an interrupted
// comparison must not leave a cluster behind.
let current: ReturnType<typeof execFile> | undefined;
let cleanup: (() => Promise<void>) | undefined;
function run(file: string, args: string[], opts: { maxBuffer: number }) {
  const p = execFileAsync(file, args, opts);
  current = p.child;
  return p;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    current?.kill('SIGTERM');
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const NYX = path.join(REPO, 'bin', 'run.js');
const ETCD_REF = path.join(HERE, 'etcd-reference.js');

const { values: a } = parseArgs({
  options: {
    cases: { type: 'string', default: 'put@256,get@256,put@1,get@1' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'value-size': { type: 'string', default: '100' },
    keys: { type: 'string', default: '10000' },
    out: { type: 'string' },
    'skip-etcd': { type: 'boolean', default: false },
    'skip-nyx': { type: 'boolean', default: false },
  },
});

const cases = a.cases!.split(',').map((c) => {
  const [op, conc] = c.split('@');
  return { op: op!, concurrency: Number(conc) };
});
const common = [
  '--duration',
  a.duration!,
  '--warmup',
  a.warmup!,
  '--value-size',
  a['value-size']!,
  '--keys',
  a.keys!,
];

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const log = (s: string) => process.stderr.write(s + '\n');

async function runNyx(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-bench-'));
  const base = await freePortRange(8);
  const pg = new Playground({
    dataDir: dir,
    stores: 3,
    regions: 1,
    host: '127.0.0.1',
    pdStatusPort: base,
    pdPort: base + 1,
    storePort: base + 2,
    storeStatusPort: base + 5,
    clean: false,
  });
  const results: BenchResult[] = [];
  cleanup = async () => {
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pg.start();
    log(`NyxDB playground up (pd ${pg.pdEndpoint}); load average ${load()}`);
    for (const c of cases) {
      for (let i = 1; i <= Number(a.runs); i++) {
        const { stdout } = await run(
          process.execPath,
          [
            NYX,
            'bench',
            'raw',
            '--pd',
            pg.pdEndpoint,
            '--json',
            '--op',
            c.op,
            '--concurrency',
            String(c.concurrency),
            ...common,
          ],
          { maxBuffer: 64 << 20 },
        );
        const r = JSON.parse(stdout) as BenchResult;
        results.push(r);
        log(
          `nyx  ${c.op}@${c.concurrency} run ${i}: ${Math.round(r.opsPerSec)} ops/s, ` +
            `p50 ${r.latencyMs.p50?.toFixed(3)} ms, p99 ${r.latencyMs.p99?.toFixed(3)} ms, ` +
            `errors ${r.errors}; load ${load()}`,
        );
      }
    }
  } finally {
    await cleanup();
    cleanup = undefined;
  }
  return results;
}

async function runEtcd(): Promise<BenchResult[]> {
  log(`etcd reference starting; load average ${load()}`);
  const results: BenchResult[] = [];
  // One etcd cluster per case keeps the order of cases the same as NyxDB's.
  for (const c of cases) {
    const { stdout } = await run(
      process.execPath,
      [
        ETCD_REF,
        '--json',
        '--op',
        c.op,
        '--concurrency',
        String(c.concurrency),
        '--runs',
        a.runs!,
        ...common,
      ],
      { maxBuffer: 64 << 20 },
    );
    const rs = (JSON.parse(stdout) as { results: BenchResult[] }).results;
    for (const [i, r] of rs.entries()) {
      log(
        `etcd ${c.op}@${c.concurrency} run ${i + 1}: ${Math.round(r.opsPerSec)} ops/s, ` +
          `p50 ${r.latencyMs.p50?.toFixed(3)} ms, p99 ${r.latencyMs.p99?.toFixed(3)} ms, ` +
          `errors ${r.errors}; load ${load()}`,
      );
    }
    results.push(...rs);
  }
  return results;
}

function table(nyx: CaseSummary[], etcd: CaseSummary[]): string {
  const f = (v: number | undefined, d = 3) =>
    v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d);
  return renderTable(
    [
      'case',
      'nyx ops/s',
      'etcd ops/s',
      'ops ratio',
      'nyx p50',
      'etcd p50',
      'p50 ratio',
      'nyx p99',
      'etcd p99',
      'client µs/op nyx',
      'client µs/op etcd',
    ],
    cases.map((c) => {
      const n = nyx.find((s) => s.op === c.op && s.concurrency === c.concurrency);
      const e = etcd.find((s) => s.op === c.op && s.concurrency === c.concurrency);
      return [
        `${c.op} c=${c.concurrency}`,
        f(n?.opsPerSec, 0),
        f(e?.opsPerSec, 0),
        n && e ? f(n.opsPerSec / e.opsPerSec, 2) : '-',
        f(n?.p50),
        f(e?.p50),
        n && e ? f(n.p50 / e.p50, 2) : '-',
        f(n?.p99),
        f(e?.p99),
        f(n?.clientCpuUsPerOp, 1),
        f(e?.clientCpuUsPerOp, 1),
      ];
    }),
  );
}

async function main(): Promise<void> {
  log(`machine: ${os.cpus().length} cores; load average ${load()}`);
  const nyx = a['skip-nyx'] ? [] : await runNyx();
  const etcd = a['skip-etcd'] ? [] : await runEtcd();
  const nyxMed = summarize(nyx);
  const etcdMed = summarize(etcd);
  process.stdout.write(
    `medians of ${a.runs} runs, ${a.duration} s each (latencies in ms)\n${table(nyxMed, etcdMed)}\n`,
  );
  if (a.out) {
    fs.writeFileSync(
      a.out,
      JSON.stringify({ loadavg: os.loadavg(), nyx, etcd, nyxMed, etcdMed }, null, 2),
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});

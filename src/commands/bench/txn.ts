import { Flags } from '@oclif/core';
import { randomBytes } from 'node:crypto';
import { KvCommand } from '../../cli/kv_command.js';
import { createTxnClient } from '../../client/create_client.js';
import type { TxnClient } from '../../client/txn/txn_client.js';
import { layoutAccounts, type AccountLayout } from '../../bench/accounts.js';
import { plainJson, renderComparison, renderOpResult } from '../../bench/op_report.js';
import { runOperations, type OpRunResult } from '../../bench/op_runner.js';
import { ProgressDisplay } from '../../bench/progress_display.js';
import {
  caseMedians,
  checkTargets,
  comparisonCases,
  txnWarmupCases,
  type CaseKey,
  type CaseRun,
} from '../../bench/txn_targets.js';
import {
  TXN_WORKLOADS,
  needsTwoRegions,
  txnWorkload,
  type TxnWorkloadDeps,
  type TxnWorkloadName,
} from '../../bench/txn_workloads.js';

const POOL = 1 << 20;

export default class BenchTxn extends KvCommand<typeof BenchTxn> {
  static override description =
    'Closed-loop transaction benchmark: 1PC, cross-Region transfers (2PC, async commit, pessimistic), snapshot reads; --compare measures them against raw puts in one command';
  static override examples = [
    '<%= config.bin %> bench txn --workload transfer-async --concurrency 64 --duration 10',
    '<%= config.bin %> bench txn --workload 1pc --concurrency 1 --json',
    '<%= config.bin %> bench txn --compare --runs 3 --duration 5',
  ];
  protected static override boundedByTimeout = false;
  static override flags = {
    workload: Flags.string({
      description: 'what each operation is',
      options: [...TXN_WORKLOADS],
      default: 'transfer-async',
    }),
    compare: Flags.boolean({
      description:
        'run raw put, 1pc, transfer-async and transfer-2pc at --latency-concurrency and --throughput-concurrency, --runs times, and check the targets on the medians',
      default: false,
    }),
    runs: Flags.integer({ description: 'runs of each case with --compare', default: 3, min: 1 }),
    'cluster-warmup': Flags.integer({
      description:
        'with --compare: unmeasured seconds of load (each workload at c=16) before the first run',
      default: 10,
      min: 0,
    }),
    'latency-concurrency': Flags.integer({
      description: 'workers for the latency cases of --compare',
      default: 1,
      min: 1,
    }),
    'throughput-concurrency': Flags.integer({
      description: 'workers for the throughput cases of --compare',
      default: 256,
      min: 1,
    }),
    concurrency: Flags.integer({
      description: 'workers, each with one transaction in flight',
      default: 64,
      min: 1,
      max: 100_000,
    }),
    duration: Flags.integer({ description: 'measured seconds (per case)', default: 10, min: 1 }),
    warmup: Flags.integer({
      description: 'unmeasured seconds before each case',
      default: 2,
      min: 0,
    }),
    'value-size': Flags.integer({ description: 'bytes per value', default: 100, min: 0 }),
    'accounts-per-region': Flags.integer({
      description: 'accounts placed in each Region',
      default: 1000,
      min: 2,
    }),
  };

  private txnClient: TxnClient | undefined;

  async run(): Promise<void> {
    const f = this.flags;
    const progress = new ProgressDisplay(process.stderr, this.json);
    await this.pd().getClusterId();
    const accounts = await layoutAccounts(this.pd(), f['accounts-per-region']);
    this.txnClient = createTxnClient({ pd: this.pd(), timeoutMs: this.timeoutMs });
    const pool = randomBytes(POOL + f['value-size']);
    const paths: Record<string, number> = {};
    const deps: TxnWorkloadDeps = {
      txn: this.txnClient,
      raw: this.raw(),
      accounts,
      paths,
      value: () => {
        const at = Math.floor(Math.random() * POOL);
        return pool.subarray(at, at + f['value-size']);
      },
    };
    progress.say(
      `placing ${accounts.all.length} accounts in ${accounts.byRegion.length} Region(s) ...`,
    );
    await this.preload(accounts, deps.value);
    const settings = {
      regions: accounts.byRegion.length,
      accounts: accounts.all.length,
      valueSize: f['value-size'],
    };

    if (!f.compare) {
      const name = f.workload as TxnWorkloadName;
      if (needsTwoRegions(name) && accounts.byRegion.length < 2) {
        this.fail(`${name} needs at least 2 Regions (nyx region split)`);
      }
      const r = await runOperations(txnWorkload(name, deps), {
        concurrency: f.concurrency,
        durationSec: f.duration,
        warmupSec: f.warmup,
        onProgress: (p) => progress.update(name, p),
      });
      progress.done();
      this.output(plainJson({ workload: name, ...settings, ...r, commitPaths: paths }), () =>
        renderOpResult(
          `nyx bench txn (--pd ${f.pd})`,
          [
            ['workload', name],
            ['Regions / accounts', `${settings.regions} / ${settings.accounts}`],
            ['value size (bytes)', settings.valueSize],
          ],
          r,
          [
            [
              'commit paths',
              Object.entries(paths)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ') || '-',
            ],
          ],
        ),
      );
      return;
    }

    if (accounts.byRegion.length < 2) this.fail('--compare needs at least 2 Regions');
    const latencyC = f['latency-concurrency'];
    const throughputC = f['throughput-concurrency'];
    const cases = comparisonCases(latencyC, throughputC);
    /** One case under a progress label. */
    const runCase = async (
      label: string,
      c: CaseKey,
      durationSec: number,
      warmupSec: number,
    ): Promise<OpRunResult> => {
      progress.say(label);
      const result = await runOperations(txnWorkload(c.workload, deps), {
        concurrency: c.concurrency,
        durationSec,
        warmupSec,
        onProgress: (p) => progress.update(label, p),
      });
      progress.done();
      return result;
    };
    for (const w of txnWarmupCases(cases, f['cluster-warmup'])) {
      await runCase(`cluster warm-up ${w.workload} c=${w.concurrency}`, w, w.durationSec, 0);
    }
    const runs: CaseRun[] = [];
    for (let run = 1; run <= f.runs; run++) {
      for (const c of cases) {
        const label = `run ${run}/${f.runs} ${c.workload} c=${c.concurrency}`;
        const result = await runCase(label, c, f.duration, f.warmup);
        runs.push({ ...c, run, result });
      }
    }
    const medians = caseMedians(runs);
    const targets = checkTargets(medians, latencyC, throughputC);
    this.output(
      plainJson({
        conditions: {
          ...settings,
          runs: f.runs,
          durationSec: f.duration,
          warmupSec: f.warmup,
          clusterWarmupSec: f['cluster-warmup'],
          latencyConcurrency: latencyC,
          throughputConcurrency: throughputC,
        },
        medians,
        targets,
        commitPaths: paths,
        runs: runs.map((r) => ({
          workload: r.workload,
          concurrency: r.concurrency,
          run: r.run,
          opsPerSec: r.result.opsPerSec,
          latencyMs: r.result.latencyMs,
          errors: r.result.errors,
          errorKinds: r.result.errorKinds,
        })),
      }),
      () =>
        `nyx bench txn --compare (--pd ${f.pd}; ${settings.regions} Regions, ${f.runs} runs of ${f.duration} s each, after ${f['cluster-warmup']} s of warm-up)\n` +
        renderComparison(medians, targets),
    );
  }

  /** Every account gets a value: one transaction per Region chunk (1PC). */
  private async preload(accounts: AccountLayout, value: () => Buffer): Promise<void> {
    const client = this.txnClient!;
    const chunks: Buffer[][] = [];
    for (const keys of accounts.byRegion) {
      for (let i = 0; i < keys.length; i += 256) chunks.push(keys.slice(i, i + 256));
    }
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const t = await client.begin();
        for (const k of chunk) await t.put(k, value());
        await t.commit();
      }
    };
    await Promise.all(Array.from({ length: 4 }, () => lane()));
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    if (this.txnClient) {
      await Promise.race([this.txnClient.flush(), new Promise((r) => setTimeout(r, 2000))]);
      this.txnClient.close();
    }
    return super.finally(err);
  }
}

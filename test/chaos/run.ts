// One chaos run: a real cluster (PD + 3 or 5 stores, 4 Regions), a workload of many
// concurrent clients recording its history, and a seeded schedule of faults — quiet,
// inject, hold, heal, wait until every Region serves again — until the duration is up.
// Then the final reads, and the verdicts: the history is linearizable, no acknowledged
// write was lost, availability returned within AVAILABILITY_BOUND_MS after every heal,
// and no process exited unless the nemesis killed it. A failed run (or --keep) keeps
// its directory: history.json, report.txt, rerun.txt and the processes' logs.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RawClient } from '../../src/client/raw_client.js';
import type { Value } from '../check/history.js';
import { SimRng } from '../sim/rng.js';
import { ChaosCluster } from './chaos_cluster.js';
import { writeHistoryFile } from './history_file.js';
import { NEMESIS_BY_NAME, type Nemesis } from './nemesis.js';
import { rerunCommand, type ChaosOptions, type NemesisName } from './options.js';
import { describeError } from './outcome.js';
import { HistoryRecorder } from './recorder.js';
import { verifyHistory, type Check, type Failure } from './verify.js';
import { Workload, createChaosClient, sleep, workloadKeys } from './workload.js';

/**
 * The stated availability bound: after a fault heals (a killed process restarted and
 * ready, a paused one resumed, a partition lifted) every Region serves a write and a
 * read within this time. It covers an election (0.5–1 s), the clients' backoff, and
 * stores re-registering with a restarted PD, with room for a loaded 2-core machine.
 */
export const AVAILABILITY_BOUND_MS = 10_000;

/** After a missed bound, wait this many bounds in all before calling a cluster stuck. */
const RECOVERY_PATIENCE = 6;

const REGIONS = 4;
const KEYS_PER_REGION = 3;
const WORKERS = 16;
const SDK_CLIENTS = 4;
const THINK_MS: [number, number] = [5, 25];
/** Quiet time before each fault: the cluster serves normally for a while. */
const QUIET_MS: [number, number] = [1000, 3000];

export interface FaultRecord {
  nemesis: NemesisName;
  description: string;
  /** Times in ms since the run started. */
  injectedAt: number;
  healedAt: number;
  /** From the heal to every Region serving again; undefined if the bound passed. */
  recoveryMs: number | undefined;
}

export interface ChaosResult {
  ok: boolean;
  failures: Failure[];
  faults: FaultRecord[];
  /** Nemeses asked for but not available (e.g. partition without failpoints), and why. */
  skipped: { nemesis: NemesisName; reason: string }[];
  summary: string;
  /** The kept directory, if any. */
  keptDir: string | undefined;
}

export async function runChaos(o: ChaosOptions, log: (line: string) => void): Promise<ChaosResult> {
  const t0 = performance.now();
  const at = () => performance.now() - t0;
  const stamp = () => `[${(at() / 1000).toFixed(1).padStart(6)}s]`;
  const say = (line: string) => log(`${stamp()} ${line}`);
  const rng = new SimRng(o.seed);
  const failures: Failure[] = [];
  const fail = (check: Check, text: string) => failures.push({ check, text });
  const faults: FaultRecord[] = [];
  const skipped: ChaosResult['skipped'] = [];

  say(`starting PD + ${o.stores} stores, ${REGIONS} Regions (seed ${o.seed})`);
  const cluster = await ChaosCluster.start({ stores: o.stores, regions: REGIONS });
  say(`cluster up in ${cluster.dir}`);

  const nemeses: Nemesis[] = [];
  for (const name of o.nemeses) {
    if (name === 'partition') {
      const support = await cluster.probeFailpoints();
      if (!support.ok) {
        skipped.push({ nemesis: name, reason: support.reason });
        say(`partition: SKIPPED — transport failpoints unavailable (${support.reason})`);
        continue;
      }
    }
    nemeses.push(NEMESIS_BY_NAME[name]);
  }

  const keys = workloadKeys(REGIONS, KEYS_PER_REGION);
  const probeKeys = workloadKeys(REGIONS, 1).map((k) => `${k}~probe`);
  const recorder = new HistoryRecorder(t0);
  const workload = new Workload(
    {
      pd: cluster.pdEndpoint,
      keys,
      workers: WORKERS,
      sdkClients: SDK_CLIENTS,
      seed: rng.derive(),
      thinkMs: THINK_MS,
    },
    recorder,
  );
  const probe = createChaosClient(cluster.pdEndpoint);
  const finalReads = new Map<string, Value>();
  let verdictSummary = 'not checked';

  try {
    workload.start();
    const workStart = at();
    say(`workload: ${WORKERS} clients on ${SDK_CLIENTS} SDK clients, keys ${keys.join(' ')}`);
    if (nemeses.length === 0) fail('run', 'no nemesis available to run');
    // The duration is the workload's: faults follow each other until it is used up (the
    // last one may overrun it a little), and a quiet tail fills what is left.
    const firstNemesis = rng.int(0, Math.max(0, nemeses.length - 1));
    let round = 0;
    while (nemeses.length > 0) {
      const left = o.durationMs - (at() - workStart);
      const quiet = rng.int(QUIET_MS[0], QUIET_MS[1]);
      if (left <= quiet) {
        await sleep(Math.max(0, left));
        break;
      }
      await sleep(quiet);
      // Round robin from a seeded start, so every nemesis asked for gets its turns.
      const nemesis = nemeses[(firstNemesis + round++) % nemeses.length]!;
      const injectedAt = at();
      const fault = await nemesis.inject(rng, cluster);
      say(`${nemesis.name}: ${fault.description}`);
      await sleep(fault.holdMs);
      if (fault.deposed) {
        const { region, leader } = fault.deposed;
        const now = await cluster.leaderStoreOf(region, leader);
        say(`  region ${region}: ${now ? `led by ${now} now` : `no leader besides ${leader} yet`}`);
      }
      await fault.heal();
      const healedAt = at();
      const avail = await waitAvailable(probe, probeKeys, AVAILABILITY_BOUND_MS);
      const recoveryMs = avail.ms;
      faults.push({
        nemesis: nemesis.name,
        description: fault.description,
        injectedAt,
        healedAt,
        recoveryMs,
      });
      if (recoveryMs === undefined) {
        const regions = await cluster.describeRegions();
        say(`  healed; NOT available again within ${AVAILABILITY_BOUND_MS} ms`);
        // Keep waiting (up to RECOVERY_PATIENCE bounds) to tell slow from stuck.
        const late = await waitAvailable(
          probe,
          probeKeys,
          (RECOVERY_PATIENCE - 1) * AVAILABILITY_BOUND_MS,
        );
        const lateLine =
          late.ms === undefined
            ? `still not available ${RECOVERY_PATIENCE * AVAILABILITY_BOUND_MS} ms after healing`
            : `available again ${Math.round(AVAILABILITY_BOUND_MS + late.ms)} ms after healing`;
        say(`  ${lateLine}`);
        fail(
          'availability',
          `not available within ${AVAILABILITY_BOUND_MS} ms after healing: ${fault.description}` +
            `\n${lateLine}; the probes' last errors at the bound:\n` +
            [...avail.pending].map(([k, e]) => `  ${k}: ${e}`).join('\n') +
            `\nthe stores' view of their Regions at the bound:\n${regions}`,
        );
        if (late.ms === undefined) break;
        continue;
      }
      say(
        `  healed; every Region serves again after ${Math.round(recoveryMs)} ms ` +
          `(${recorder.stats.ok} ops ok so far)`,
      );
      if (cluster.unexpectedExits.length > 0) break;
    }
  } catch (e) {
    fail('run', `the run itself failed: ${(e as Error).stack ?? e}`);
  } finally {
    await workload.stop();
    await cluster.healAll().catch((e) => fail('run', `final heal failed: ${e}`));
  }

  // The final reads join the history: once every fault healed, each key is read until
  // a read succeeds, which is what "no acknowledged write lost" is judged on.
  try {
    const reader = createChaosClient(cluster.pdEndpoint);
    const client = recorder.newClient();
    const deadline = performance.now() + AVAILABILITY_BOUND_MS;
    for (const key of keys) {
      for (;;) {
        const out = await recorder.invoke(client, reader, { f: 'get', key });
        if (out?.f === 'get') {
          finalReads.set(key, out.value);
          break;
        }
        if (performance.now() > deadline) {
          fail('availability', `final read of ${key} failed for ${AVAILABILITY_BOUND_MS} ms`);
          break;
        }
        await sleep(100);
      }
    }
    reader.close();
  } finally {
    probe.close();
  }

  for (const x of cluster.unexpectedExits) {
    fail(
      'no-crash',
      `${x.name} exited (${x.signal ?? `code ${x.code}`}) without the nemesis killing it; ` +
        `its log ends:\n${x.logTail}`,
    );
  }
  const s = recorder.stats;
  if (s.ok < keys.length * 2) fail('run', `the workload made almost no progress (${s.ok} ops)`);

  const verdict = verifyHistory(recorder.ops, finalReads);
  verdictSummary = verdict.summary;
  failures.push(...verdict.failures);

  const unexpected = [...s.unexpected].map(([n, c]) => `${n}×${c}`).join(', ');
  const recoveries = faults.map((f) => f.recoveryMs ?? Infinity);
  const summary = [
    `${faults.length} faults (${o.nemeses.filter((n) => !skipped.some((x) => x.nemesis === n)).join(', ') || 'none'})` +
      (recoveries.length ? `, slowest recovery ${Math.round(Math.max(...recoveries))} ms` : ''),
    `ops: ${s.ok} ok, ${s.indeterminate} indeterminate, ${s.failedReads} failed reads dropped` +
      (unexpected ? `; errors no fault explains: ${unexpected}` : ''),
    verdictSummary,
  ].join('\n');

  const ok = failures.length === 0;
  const keep = !ok || o.keep;
  await cluster.stop({ keep });
  let keptDir: string | undefined;
  if (keep) {
    keptDir = cluster.dir;
    writeHistoryFile(path.join(keptDir, 'history.json'), {
      rerun: rerunCommand(o),
      ops: recorder.ops,
      finalReads: Object.fromEntries(finalReads),
    });
    fs.writeFileSync(path.join(keptDir, 'rerun.txt'), rerunCommand(o) + '\n');
    fs.writeFileSync(
      path.join(keptDir, 'report.txt'),
      [
        `${ok ? 'PASSED' : 'FAILED'}: ${rerunCommand(o)}`,
        summary,
        `(operation times are ms since the run started; the processes' logs are in logs/)`,
        '',
        'faults:',
        ...faults.map(
          (f) =>
            `  ${(f.injectedAt / 1000).toFixed(1)}s–${(f.healedAt / 1000).toFixed(1)}s ${f.nemesis}: ` +
            `${f.description}; recovered in ${f.recoveryMs === undefined ? '(not within the bound)' : `${Math.round(f.recoveryMs)} ms`}`,
        ),
        '',
        ...failures.map((f) => `[${f.check}] ${f.text}\n`),
      ].join('\n') + '\n',
    );
  }
  return { ok, failures, faults, skipped, summary, keptDir };
}

/**
 * Waits until a write and a read succeed in every Region (one probe key each); returns
 * how long that took, or undefined if it did not happen within boundMs.
 */
async function waitAvailable(
  kv: RawClient,
  probeKeys: string[],
  boundMs: number,
): Promise<{ ms: number | undefined; pending: Map<string, string> }> {
  const start = performance.now();
  // Probe key → the last error it saw.
  const pending = new Map(probeKeys.map((k) => [k, 'not tried']));
  while (performance.now() - start < boundMs) {
    await Promise.all(
      [...pending.keys()].map(async (key) => {
        try {
          await kv.put(key, `probe-${Math.round(performance.now())}`);
          await kv.get(key);
          pending.delete(key);
        } catch (e) {
          pending.set(key, describeError(e));
        }
      }),
    );
    if (pending.size === 0) {
      const took = performance.now() - start;
      return { ms: took <= boundMs ? took : undefined, pending };
    }
    await sleep(50);
  }
  return { ms: undefined, pending };
}

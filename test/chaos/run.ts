// One chaos run: a real cluster (PD + 3 to 5 stores, 4 Regions to begin with), a
// workload of many concurrent clients recording its history (RawKV, or the bank or
// list-append transactions), and a seeded schedule of faults — quiet, inject, hold, heal,
// wait until every Region serves again — until the duration is up. Then the workload's
// final reads and checks (linearizability and lost writes for RawKV; the bank invariant,
// snapshot-isolation anomalies and lost commits for transactions), availability within
// AVAILABILITY_BOUND_MS after every heal, and no process exited unless the nemesis took
// it down. A failed run (or --keep) keeps its directory: the history, report.txt,
// rerun.txt and the processes' logs.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PdClient } from '../../src/client/pd_client.js';
import type { RawClient } from '../../src/client/raw_client.js';
import { SimRng } from '../sim/rng.js';
import { AppendChaosWorkload } from './append_chaos_workload.js';
import { BankChaosWorkload } from './bank_chaos_workload.js';
import { ChaosCluster } from './chaos_cluster.js';
import { AVAILABILITY_BOUND_MS, REGIONS, type ChaosWorkload } from './chaos_workload.js';
import { KvChaosWorkload } from './kv_chaos_workload.js';
import { NEMESIS_BY_NAME, type Nemesis } from './nemesis.js';
import { rerunCommand, type ChaosOptions, type NemesisName, type WorkloadName } from './options.js';
import { describeError } from './outcome.js';
import type { Check, Failure } from './verify.js';
import { createChaosClient, sleep } from './workload.js';

export { AVAILABILITY_BOUND_MS };

/** PD's default max-replicas. */
const MAX_REPLICAS = 3;
/** How long a cluster of more stores than that may take to trim its Regions' voters. */
const SETTLE_MS = 30_000;

/** After a missed bound, wait this many bounds in all before calling a cluster stuck. */
const RECOVERY_PATIENCE = 6;

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
  /** Why the fault did not happen after all (PD refused, the failpoint was not hit). */
  missed?: string;
  /** What the heal found (how a replica move ended). */
  note?: string;
}

function createWorkload(name: WorkloadName, pd: string, seed: number, t0: number): ChaosWorkload {
  switch (name) {
    case 'rawkv':
      return new KvChaosWorkload(pd, seed, t0);
    case 'bank':
      return new BankChaosWorkload(pd, seed);
    case 'append':
      return new AppendChaosWorkload(pd, seed);
  }
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
  const cluster = await ChaosCluster.start({
    stores: o.stores,
    regions: REGIONS,
    ...(o.logGc !== undefined ? { logGc: o.logGc } : {}),
  });
  say(`cluster up in ${cluster.dir}`);

  const nemeses: Nemesis[] = [];
  for (const name of o.nemeses) {
    const nemesis = NEMESIS_BY_NAME[name];
    if (nemesis.needsFailpoints) {
      const support = await cluster.probeFailpoints();
      if (!support.ok) {
        skipped.push({ nemesis: name, reason: support.reason });
        say(`${name}: SKIPPED — failpoints unavailable (${support.reason})`);
        continue;
      }
    }
    nemeses.push(nemesis);
  }

  if (o.stores > MAX_REPLICAS) {
    // Bootstrap put a voter of every Region on every store; PD's replica checker trims
    // them to max-replicas. Let it finish first, so that the first fault's recovery is
    // not measured across that (and a move finds a store without a replica).
    const trimmed = await cluster.waitVotersAtMost(MAX_REPLICAS, SETTLE_MS);
    say(
      trimmed
        ? `PD trimmed every Region to ${MAX_REPLICAS} voters`
        : `PD has not trimmed every Region to ${MAX_REPLICAS} voters in ${SETTLE_MS} ms; going on`,
    );
  }

  const workload = createWorkload(o.workload, cluster.pdEndpoint, rng.derive(), t0);
  const probe = createChaosClient(cluster.pdEndpoint);
  const pd = PdClient.connect(cluster.pdEndpoint);
  let probeKeys: Buffer[] = [];
  /** One probe key per Region PD knows now (splits add Regions); the last set if PD is not answering. */
  const currentProbeKeys = async (): Promise<Buffer[]> => {
    try {
      const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
      if (regions.length > 0) probeKeys = regions.map((r) => probeKeyOf(r.region.startKey));
    } catch {
      // keep the last set
    }
    return probeKeys;
  };
  await currentProbeKeys();

  try {
    await workload.setup();
    workload.start();
    const workStart = at();
    say(`workload ${workload.describe()}`);
    if (nemeses.length === 0) fail('run', 'no nemesis available to run');
    // The duration is the workload's: faults follow each other until it is used up (the
    // last one may overrun it), and a quiet tail fills what is left.
    const firstNemesis = rng.int(0, Math.max(0, nemeses.length - 1));
    let round = 0;
    while (nemeses.length > 0) {
      const left = o.durationMs - (at() - workStart);
      const quiet = rng.int(QUIET_MS[0], QUIET_MS[1]);
      // Every nemesis asked for gets at least one turn, even if that overruns the duration
      // (a short run on a slow machine would otherwise leave some out).
      if (left <= quiet && round >= nemeses.length) {
        await sleep(Math.max(0, left));
        break;
      }
      await sleep(quiet);
      // Round robin from a seeded start, so every nemesis asked for gets its turns.
      const nemesis = nemeses[(firstNemesis + round++) % nemeses.length]!;
      const injectedAt = at();
      const fault = await nemesis.inject(rng, cluster, { keys: workload.keys });
      say(`${nemesis.name}: ${fault.description}`);
      await sleep(fault.holdMs);
      if (fault.deposed) {
        const { region, leader } = fault.deposed;
        const now = await cluster.leaderStoreOf(region, leader);
        say(`  region ${region}: ${now ? `led by ${now} now` : `no leader besides ${leader} yet`}`);
      }
      const healNote = await fault.heal();
      if (healNote) say(`  ${healNote.note}`);
      const healedAt = at();
      const avail = await waitAvailable(probe, await currentProbeKeys(), AVAILABILITY_BOUND_MS);
      const recoveryMs = avail.ms;
      const missed = fault.missed ?? (healNote?.missed ? healNote.note : undefined);
      faults.push({
        nemesis: nemesis.name,
        description: fault.description,
        injectedAt,
        healedAt,
        recoveryMs,
        ...(missed !== undefined ? { missed } : {}),
        ...(healNote ? { note: healNote.note } : {}),
      });
      if (recoveryMs === undefined) {
        const regions = await cluster.describeRegions();
        say(`  healed; NOT available again within ${AVAILABILITY_BOUND_MS} ms`);
        // Keep waiting (up to RECOVERY_PATIENCE bounds) to tell slow from stuck.
        const late = await waitAvailable(
          probe,
          await currentProbeKeys(),
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
          `(${workload.progress()} so far)`,
      );
      if (cluster.unexpectedExits.length > 0) break;
    }
  } catch (e) {
    fail('run', `the run itself failed: ${(e as Error).stack ?? e}`);
  } finally {
    await workload.stop();
    await cluster.healAll().catch((e) => fail('run', `final heal failed: ${e}`));
  }

  probe.close();
  pd.close();
  for (const x of cluster.unexpectedExits) {
    fail(
      'no-crash',
      `${x.name} exited (${x.signal ?? `code ${x.code}`}) without the nemesis killing it; ` +
        `its log ends:\n${x.logTail}`,
    );
  }

  const verdict = await workload.verify();
  failures.push(...verdict.failures);

  const recoveries = faults.map((f) => f.recoveryMs ?? Infinity);
  const missed = faults.filter((f) => f.missed !== undefined).length;
  const summary = [
    `${faults.length} faults (${o.nemeses.filter((n) => !skipped.some((x) => x.nemesis === n)).join(', ') || 'none'})` +
      (missed > 0 ? `, ${missed} of them not done (refused or not hit)` : '') +
      (recoveries.length ? `, slowest recovery ${Math.round(Math.max(...recoveries))} ms` : ''),
    verdict.summary,
  ].join('\n');

  const ok = failures.length === 0;
  const keep = !ok || o.keep;
  await cluster.stop({ keep });
  let keptDir: string | undefined;
  if (keep) {
    keptDir = cluster.dir;
    workload.keep(keptDir, rerunCommand(o));
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
            `${f.description}${f.note ? `; ${f.note}` : ''}; recovered in ` +
            `${f.recoveryMs === undefined ? '(not within the bound)' : `${Math.round(f.recoveryMs)} ms`}`,
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
  probeKeys: Buffer[],
  boundMs: number,
): Promise<{ ms: number | undefined; pending: Map<string, string> }> {
  const start = performance.now();
  // Probe key → the last error it saw.
  const pending = new Map(probeKeys.map((k) => [k.toString('utf8'), 'not tried']));
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

/**
 * The probe key of a Region that starts at `start`: just after its start key. '!' sorts
 * before every character of the workloads' keys and of the split nemesis's keys, so the
 * key stays inside the Region it was made for, and it is no workload's key.
 */
function probeKeyOf(start: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(start), Buffer.from('!probe')]);
}

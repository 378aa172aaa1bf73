// A local cluster of real processes: one PD and N stores started as child processes of
// this one, each with its own data dir under the playground's, logs in <dir>/logs/
// (pd.log, store-<id>.log by store id). The first run bootstraps; later runs reuse the
// data (the stores keep their ids and Regions).
//
// Children are watched: one that exits while the playground runs is reported at once
// (onChildExit) and the others keep running; each child also watches the playground
// (parent_watch.ts), so none outlives a playground killed with kill -9.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DataDirLock, LOCK_FILE } from '../common/data_dir_lock.js';
import { readIdent } from '../store/store_ident.js';
import { PARENT_PID_ENV } from './parent_watch.js';
import { playgroundTickMs } from './playground_tick.js';
import {
  type CertFiles,
  type ClusterCerts,
  existingClusterCerts,
  generateClusterCerts,
} from './tls_certs.js';

function tlsArgs(ca: string, own: CertFiles): string[] {
  return ['--ca', ca, '--cert', own.cert, '--key', own.key];
}

export interface PlaygroundOptions {
  dataDir: string;
  stores: number;
  /** Initial Regions (see playgroundSplitKeys); used on the first run only. */
  regions: number;
  /**
   * Explicit split keys (text) instead of playgroundSplitKeys(regions), e.g. cut where a
   * benchmark's keys are (workloadSplitKeys); first run only.
   */
  splitKeys?: string[];
  host: string;
  pdPort: number;
  pdStatusPort: number;
  /** Store i listens on storePort + i and storeStatusPort + i (i from 0). */
  storePort: number;
  storeStatusPort: number;
  clean: boolean;
  /** Extra flags for every store (e.g. Raft log GC settings in tests). */
  storeArgs?: string[];
  /** Extra flags for PD. */
  pdArgs?: string[];
  /** Start every process with --allow-failpoints (run-time control on its status port). */
  allowFailpoints?: boolean;
  /** How long to wait for each process to report ready. */
  readyTimeoutMs?: number;
  /** Called when a ready child exits without being asked to (a crash, a kill from outside). */
  onChildExit?: (death: ChildDeath) => void;
  /** Mutual TLS everywhere, with throw-away certificates under <dataDir>/tls/. */
  tls?: boolean;
}

/** A child that exited while the playground ran. */
export interface ChildDeath {
  name: string;
  /** The store's id, for stores that got as far as registering. */
  storeId?: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
}

export interface PlaygroundProcess {
  name: string;
  child: ChildProcess;
  grpc: string;
  status: string;
  logFile: string;
  args: string[];
  /** Set once writing the log file failed (it is not retried). */
  logFailed?: boolean;
  /** A store's id, from its ready line. */
  storeId?: number;
  /** Set when the playground itself stops or kills the process: its exit is no news. */
  expectedExit?: boolean;
}

/** bin/run.js of this package (from dist/src/server/): how child `nyx` processes start. */
export const NYX_BIN = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'bin',
  'run.js',
);

export class Playground {
  readonly processes: PlaygroundProcess[] = [];
  /** Children that exited on their own while the playground ran, in order. */
  readonly deaths: ChildDeath[] = [];
  private stopping = false;
  private lock: DataDirLock | undefined;

  constructor(readonly opts: PlaygroundOptions) {}

  /** The certificates of a --tls playground (clients use certs.client). */
  certs: ClusterCerts | undefined;
  /** The stores' Raft tick (playground_tick.ts), unless storeArgs set one. */
  tickMs: number | undefined;

  get pdEndpoint(): string {
    return `${this.opts.host}:${this.opts.pdPort}`;
  }

  async start(): Promise<void> {
    const o = this.opts;
    // Locked before --clean: cleaning the dir of a running playground would pull its
    // data out from under it. PD and each store lock their own dirs below this one.
    this.lock = DataDirLock.acquire(o.dataDir);
    if (o.clean) {
      for (const entry of fs.readdirSync(o.dataDir)) {
        if (entry !== LOCK_FILE)
          fs.rmSync(path.join(o.dataDir, entry), { recursive: true, force: true });
      }
    }
    fs.mkdirSync(path.join(o.dataDir, 'logs'), { recursive: true });
    this.tickMs = o.storeArgs?.includes('--tick-ms')
      ? undefined
      : playgroundTickMs(o.dataDir, o.regions);
    if (o.tls) {
      // Kept across runs: a store's data dir belongs to the id its certificate names.
      const dir = path.join(o.dataDir, 'tls');
      this.certs =
        existingClusterCerts(dir, o.stores) ?? (await generateClusterCerts(dir, o.stores));
    }
    try {
      await this.spawnProcess('pd', [
        'pd',
        'start',
        '--addr',
        this.pdEndpoint,
        '--status-addr',
        `${o.host}:${o.pdStatusPort}`,
        '--data-dir',
        path.join(o.dataDir, 'pd'),
        '--initial-stores',
        String(o.stores),
        ...(o.splitKeys?.length
          ? ['--initial-split-keys', o.splitKeys.join(',')]
          : playgroundLayoutArgs(o.regions)),
        ...(o.allowFailpoints ? ['--allow-failpoints'] : []),
        ...(this.certs ? tlsArgs(this.certs.ca, this.certs.pd) : []),
        ...(o.pdArgs ?? []),
      ]);
      await Promise.all(
        Array.from({ length: o.stores }, (_, i) =>
          this.spawnProcess(`store${i + 1}`, this.storeArgs(i)),
        ),
      );
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  storeArgs(i: number): string[] {
    const o = this.opts;
    return [
      'store',
      'start',
      '--pd',
      this.pdEndpoint,
      '--addr',
      `${o.host}:${o.storePort + i}`,
      '--status-addr',
      `${o.host}:${o.storeStatusPort + i}`,
      '--data-dir',
      path.join(o.dataDir, `store${i + 1}`),
      ...(o.allowFailpoints ? ['--allow-failpoints'] : []),
      ...(this.certs ? tlsArgs(this.certs.ca, this.certs.stores[i]!) : []),
      ...(this.tickMs !== undefined ? ['--tick-ms', String(this.tickMs)] : []),
      ...(o.storeArgs ?? []),
    ];
  }

  /** Start a child and resolve once it prints its ready line. */
  async spawnProcess(name: string, args: string[]): Promise<PlaygroundProcess> {
    const logsDir = path.join(this.opts.dataDir, 'logs');
    // A store that ran before knows its id; a new one gets it from PD, and its log is
    // renamed to store-<id>.log once it says it in its ready line.
    const knownId = storeIdOf(args);
    let logFile = path.join(logsDir, knownId ? `store-${knownId}.log` : `${name}.log`);
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    // A log that cannot be written (a full disk) must not take the playground down with
    // it: say so once and go on without the file.
    log.on('error', (err) => {
      if (!proc.logFailed) console.error(`cannot write ${logFile}: ${err.message}`);
      proc.logFailed = true;
    });
    const child = spawn(process.execPath, [NYX_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NYX_LOG_LEVEL: process.env.NYX_LOG_LEVEL ?? 'info',
        [PARENT_PID_ENV]: String(process.pid),
      },
    });
    child.stderr!.pipe(log, { end: false });
    // A child that fails before it is ready says why on its last "Error: ..." line (a port
    // in use, a locked data dir); the console gets that line, not only the log's path.
    let lastError = '';
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      if (line.startsWith('Error: ')) lastError = line.slice('Error: '.length);
    });
    const lines = readline.createInterface({ input: child.stdout! });
    const proc: PlaygroundProcess = { name, child, grpc: '', status: '', logFile, args };
    if (knownId) proc.storeId = knownId;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not become ready in time; see ${logFile}`)),
        this.opts.readyTimeoutMs ?? 60_000,
      );
      lines.on('line', (line) => {
        log.write(line + '\n');
        const m = /ready: grpc (\S+), status (?:https?:\/\/)?(\S+)/.exec(line);
        if (m) {
          proc.grpc = m[1]!.replace(/,$/, '');
          proc.status = m[2]!;
          const id = /^Store (\d+) ready/.exec(line)?.[1];
          if (id !== undefined && proc.storeId === undefined) {
            proc.storeId = Number(id);
            logFile = proc.logFile = renameLog(logFile, path.join(logsDir, `store-${id}.log`));
          }
          clearTimeout(timer);
          resolve();
        }
      });
      // 'close', not 'exit': stderr is drained by then, so lastError is complete.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        log.end();
        if (this.stopping || proc.expectedExit) return;
        if (!proc.grpc) {
          const why = lastError || `exited (${signal ?? `code ${code}`}) before it was ready`;
          reject(new Error(`${name} could not start: ${why}; see ${logFile}`));
          return;
        }
        const death: ChildDeath = { name, code, signal, logFile: proc.logFile };
        if (proc.storeId !== undefined) death.storeId = proc.storeId;
        this.deaths.push(death);
        this.opts.onChildExit?.(death);
      });
    });
    this.processes.push(proc);
    await ready;
    return proc;
  }

  process(name: string): PlaygroundProcess {
    const p = this.processes.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name}`);
    return p;
  }

  /** Kill a process abruptly (kill -9): what it had not made durable is gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.process(name);
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.expectedExit = true;
    const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
    p.child.kill(signal);
    await exited;
  }

  /** Start a stopped process again with the same arguments (and so the same data dir), or these. */
  async restart(name: string, args?: string[]): Promise<PlaygroundProcess> {
    const old = this.process(name);
    this.processes.splice(this.processes.indexOf(old), 1);
    return this.spawnProcess(name, args ?? old.args);
  }

  /** SIGTERM every child (stores first, then PD) and wait for them to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const order = [...this.processes].reverse();
    for (const p of order) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        await terminate(p.child);
      }
    }
    this.lock?.release();
    this.lock = undefined;
  }
}

/** The store id recorded in a store's data dir (from `store start ... --data-dir D`). */
function storeIdOf(args: string[]): number | undefined {
  if (args[0] !== 'store') return undefined;
  const i = args.indexOf('--data-dir');
  const dir = i >= 0 ? args[i + 1] : undefined;
  if (!dir) return undefined;
  try {
    return readIdent(dir)?.storeId;
  } catch {
    // A corrupt ident: the store itself will say so when it starts.
    return undefined;
  }
}

/** Moves a log to its final name; appends to it when it exists (a store's earlier runs). */
function renameLog(from: string, to: string): string {
  if (from === to) return to;
  try {
    if (fs.existsSync(to)) {
      // The open stream keeps writing to `from`: keep both rather than lose lines.
      return from;
    }
    fs.renameSync(from, to);
    return to;
  } catch {
    return from;
  }
}

/** Regions playgroundSplitKeys can make: one per character of '0'..'z'. */
const PLAYGROUND_KEY_REGIONS = 0x7b - 0x30;

/**
 * Split keys for a playground: single characters spread evenly over '0'..'z', so keys a
 * person types (words, numbers) land in different Regions. Beyond 75 Regions the
 * characters run out; PD's binary even splits are the tool for that (playgroundLayoutArgs).
 */
export function playgroundSplitKeys(regions: number): string[] {
  const lo = 0x30;
  const hi = 0x7b; // exclusive: '0'..'z'
  if (regions < 1 || regions > hi - lo)
    throw new Error(`a playground supports 1 to ${hi - lo} Regions`);
  const keys: string[] = [];
  for (let i = 1; i < regions; i++)
    keys.push(String.fromCharCode(lo + Math.floor((i * (hi - lo)) / regions)));
  return keys;
}

/** The largest number of Regions a playground is started with (PD's even-split limit). */
export const MAX_PLAYGROUND_REGIONS = 65536;

/**
 * PD's flags for a playground's first Regions: the readable split keys of
 * playgroundSplitKeys while they suffice, else PD's even binary slices (--initial-regions),
 * which is what a benchmark with thousands of Regions needs.
 */
export function playgroundLayoutArgs(regions: number): string[] {
  if (!Number.isInteger(regions) || regions < 1 || regions > MAX_PLAYGROUND_REGIONS)
    throw new Error(`a playground supports 1 to ${MAX_PLAYGROUND_REGIONS} Regions, not ${regions}`);
  if (regions === 1) return [];
  if (regions <= PLAYGROUND_KEY_REGIONS)
    return ['--initial-split-keys', playgroundSplitKeys(regions).join(',')];
  return ['--initial-regions', String(regions)];
}

/** SIGTERM, then SIGKILL if the process does not exit within the grace period. */
export async function terminate(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

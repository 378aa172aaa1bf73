// A TestCluster seen by the nemeses: which store id runs in which process, who leads a
// Region, kill -9 / restart, SIGSTOP / SIGCONT, transport failpoints — and a watch on
// every child so that a process that exits without the nemesis killing it is caught.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PdClient } from '../../src/client/pd_client.js';
import type { PlaygroundProcess } from '../../src/server/playground.js';
import { TestCluster, type StoreStatus } from '../integration/cluster.js';

/**
 * TestCluster runs stores with `--tick-ms 50` and the default 10 election ticks: a
 * follower that hears nothing for 500–1000 ms (randomized) starts an election.
 */
export const ELECTION_TIMEOUT_MS = 500;

/** How long an HTTP call to a status port may take; a paused process never answers. */
const STATUS_TIMEOUT_MS = 1000;

export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of its log, where the reason usually is. */
  logTail: string;
}

export type FailpointSupport = { ok: true } | { ok: false; reason: string };

/** A Region as `nyx region list --json` shows it (text keys: the workloads' keys are text). */
export interface RegionView {
  id: number;
  startKey: string;
  endKey: string;
  peers: { id: number; storeId: number; role: string }[];
  leader: { id: number; storeId: number } | null;
}

/** The exit code of a process a failpoint's `panic` ended (src/common/failpoint.ts). */
const FAILPOINT_PANIC_EXIT_CODE = 101;

const MANIFEST = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'oclif.manifest.json',
);

/** Does `nyx store start` know `--allow-failpoints`? (An unknown flag would stop it.) */
export function storeAcceptsFailpointFlag(): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as {
      commands: Record<string, { flags: Record<string, unknown> }>;
    };
    return 'allow-failpoints' in (m.commands['store:start']?.flags ?? {});
  } catch {
    return false;
  }
}

function logTail(p: PlaygroundProcess): string {
  try {
    return fs.readFileSync(p.logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

export class ChaosCluster {
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Processes the nemesis took down (or is taking down, or armed to crash) on purpose. */
  private readonly expectedDown = new Set<string>();
  private readonly paused = new Set<string>();
  private readonly failpoints = new Set<string>(); // "storeName\u0000failpoint"
  private stopping = false;

  private constructor(
    readonly tc: TestCluster,
    /** store id → process name; ids survive restarts (the data dir is kept). */
    readonly storeNameById: Map<number, string>,
    readonly failpointsAllowed: boolean,
  ) {
    for (const p of tc.pg.processes) this.watch(p);
  }

  static async start(opts: {
    stores: number;
    regions: number;
    logGc?: number;
  }): Promise<ChaosCluster> {
    const allow = storeAcceptsFailpointFlag();
    // PD too: the failpoint nemesis crashes it at its metadata and TSO writes.
    const tc = await TestCluster.start({
      stores: opts.stores,
      regions: opts.regions,
      allowFailpoints: allow,
      ...(opts.logGc !== undefined
        ? {
            storeArgs: [
              '--raft-log-gc-threshold',
              String(opts.logGc),
              '--raft-log-gc-interval-ms',
              '1000',
            ],
          }
        : {}),
    });
    const ids = new Map<number, string>();
    for (const name of tc.storeNames()) ids.set((await tc.status(name)).store, name);
    return new ChaosCluster(tc, ids, allow);
  }

  get dir(): string {
    return this.tc.dir;
  }

  get pdEndpoint(): string {
    return this.tc.pd;
  }

  storeNames(): string[] {
    return this.tc.storeNames();
  }

  storeIdOf(name: string): number {
    for (const [id, n] of this.storeNameById) if (n === name) return id;
    throw new Error(`no store named ${name}`);
  }

  private watch(p: PlaygroundProcess): void {
    p.child.once('exit', (code, signal) => {
      if (this.stopping || this.expectedDown.has(p.name)) return;
      this.unexpectedExits.push({ name: p.name, code, signal, logTail: logTail(p) });
    });
  }

  isUp(name: string): boolean {
    const p = this.tc.pg.process(name);
    return p.child.exitCode === null && p.child.signalCode === null && !this.paused.has(name);
  }

  /** kill -9: whatever the process had not made durable is gone. */
  async kill(name: string): Promise<void> {
    this.expectedDown.add(name);
    await this.tc.pg.kill(name, 'SIGKILL');
  }

  async restart(name: string): Promise<void> {
    const p = await this.tc.pg.restart(name);
    this.expectedDown.delete(name);
    this.watch(p);
  }

  pause(name: string): void {
    this.paused.add(name);
    this.tc.pg.process(name).child.kill('SIGSTOP');
  }

  resume(name: string): void {
    this.tc.pg.process(name).child.kill('SIGCONT');
    this.paused.delete(name);
  }

  private async statusOf(name: string): Promise<StoreStatus | undefined> {
    if (!this.isUp(name)) return undefined;
    try {
      const res = await fetch(`http://${this.tc.pg.process(name).status}/status`, {
        signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
      });
      return (await res.json()) as StoreStatus;
    } catch {
      return undefined;
    }
  }

  /**
   * The store that leads a Region, asked of the stores themselves (PD's view lags by a
   * heartbeat): the Leader peer with the highest term wins. `except` leaves one out.
   */
  async leaderStoreOf(regionId: number, except?: string): Promise<string | undefined> {
    let best: { name: string; term: number } | undefined;
    for (const name of this.storeNames()) {
      if (name === except) continue;
      const s = await this.statusOf(name);
      const peer = s?.peers.find((p) => p.region === regionId && p.role === 'Leader');
      if (peer && (!best || peer.term > best.term)) best = { name, term: peer.term };
    }
    return best?.name;
  }

  /** Every store's peers, one line each (for reports): role, term, commit, applied. */
  async describeRegions(): Promise<string> {
    const lines: string[] = [];
    for (const name of this.storeNames()) {
      const s = await this.statusOf(name);
      if (!s) {
        lines.push(`  ${name}: ${this.isUp(name) ? 'no answer' : 'down or paused'}`);
        continue;
      }
      const peers = s.peers.map(
        (p) =>
          `r${p.region} ${p.role} t${p.term} c${p.commit} a${p.applied}` +
          (p.leader !== null && p.role !== 'Leader' ? ` →${p.leader}` : ''),
      );
      lines.push(`  ${name} (store ${s.store}): ${peers.join(' | ')}`);
    }
    return lines.join('\n');
  }

  /** Region ids, from any store that answers. */
  async regionIds(): Promise<number[]> {
    for (const name of this.storeNames()) {
      const s = await this.statusOf(name);
      if (s) return s.peers.map((p) => p.region).sort((a, b) => a - b);
    }
    return [];
  }

  /**
   * Whether the stores and PD accept run-time failpoints: started with --allow-failpoints
   * and a status port that takes PUT /failpoints/<name>. Probed with a drop towards a
   * store id nobody has, so the probe itself disturbs nothing.
   */
  async probeFailpoints(): Promise<FailpointSupport> {
    if (!this.failpointsAllowed) {
      return { ok: false, reason: '`nyx store start` has no --allow-failpoints flag yet' };
    }
    const fp = 'transport_drop_to_store_999999';
    for (const name of [this.storeNames()[0]!, 'pd']) {
      try {
        const res = await this.failpointRequest(name, 'PUT', fp, 'return');
        if (!res.ok) {
          return { ok: false, reason: `${name}: PUT /failpoints/${fp} answered ${res.status}` };
        }
        await this.failpointRequest(name, 'DELETE', fp);
      } catch (e) {
        return {
          ok: false,
          reason: `${name}: PUT /failpoints/${fp} failed: ${(e as Error).message}`,
        };
      }
    }
    return { ok: true };
  }

  private failpointRequest(
    name: string,
    method: 'PUT' | 'DELETE',
    failpoint: string,
    action?: string,
  ): Promise<Response> {
    return fetch(`http://${this.tc.pg.process(name).status}/failpoints/${failpoint}`, {
      method,
      ...(action !== undefined ? { body: action } : {}),
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
    });
  }

  /** Store `from` drops every Raft message to store `to` (one direction only). */
  async dropMessages(from: string, to: string): Promise<void> {
    const fp = `transport_drop_to_store_${this.storeIdOf(to)}`;
    const res = await this.failpointRequest(from, 'PUT', fp, 'return');
    if (!res.ok) throw new Error(`${from}: PUT /failpoints/${fp} answered ${res.status}`);
    this.failpoints.add(`${from}\u0000${fp}`);
  }

  /** Removes every failpoint this run set (a restarted process has none left anyway). */
  async clearFailpoints(): Promise<void> {
    for (const entry of [...this.failpoints]) {
      const [name, fp] = entry.split('\u0000') as [string, string];
      if (this.tc.pg.process(name).child.exitCode === null) {
        const res = await this.failpointRequest(name, 'DELETE', fp);
        if (!res.ok && res.status !== 404) {
          throw new Error(`${name}: DELETE /failpoints/${fp} answered ${res.status}`);
        }
      }
      this.failpoints.delete(entry);
    }
  }

  private pdClient: PdClient | undefined;

  /**
   * A PD client for the nemeses' admin calls — the calls `nyx region split`, `nyx region
   * transfer-leader` and `nyx operator add|show` make (in-process: a child `nyx` per call
   * costs seconds of CPU on a loaded 2-core machine).
   */
  pd(): PdClient {
    this.pdClient ??= PdClient.connect(this.pdEndpoint, { timeoutMs: 10_000, rpcTimeoutMs: 3000 });
    return this.pdClient;
  }

  /** PD's Regions in key order, as `nyx region list` shows them. */
  async regions(): Promise<RegionView[]> {
    const regions = await this.pd().scanRegions(Buffer.alloc(0), Buffer.alloc(0));
    return regions.map(({ region, leader }) => ({
      id: Number(region.id),
      startKey: Buffer.from(region.startKey).toString('utf8'),
      endKey: Buffer.from(region.endKey).toString('utf8'),
      peers: region.peers.map((p) => ({
        id: Number(p.id),
        storeId: Number(p.storeId),
        role: String(p.role),
      })),
      leader: leader ? { id: Number(leader.id), storeId: Number(leader.storeId) } : null,
    }));
  }

  /** Waits until PD shows every Region with at most `n` peers, all voters; false on timeout. */
  async waitVotersAtMost(n: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const regions = await this.regions().catch(() => []);
      if (
        regions.length > 0 &&
        regions.every((r) => r.peers.length <= n && r.peers.every((p) => p.role === 'Voter'))
      ) {
        return true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  /**
   * Arms a crash failpoint (`1*panic`) on a process (a store or PD) and waits up to
   * `withinMs` for it to hit it and exit; `provoke`, called once it is armed, starts what
   * leads there (a split, a merge, a replica change). True if it exited with the
   * failpoint's exit code. False if it never passed that point in time (the failpoint is
   * removed again and the process runs on), or if it went down some other way — that one
   * is reported as an unexpected exit.
   */
  async crashAtFailpoint(
    name: string,
    failpoint: string,
    withinMs: number,
    provoke?: () => void,
  ): Promise<boolean> {
    const child = this.tc.pg.process(name).child;
    this.expectedDown.add(name);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const res = await this.failpointRequest(name, 'PUT', failpoint, '1*panic');
    if (!res.ok) {
      this.expectedDown.delete(name);
      throw new Error(`${name}: PUT /failpoints/${failpoint} answered ${res.status}`);
    }
    provoke?.();
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), withinMs));
    let code = await Promise.race([exited, timer]);
    if (code === 'timeout') {
      await this.failpointRequest(name, 'DELETE', failpoint).catch(() => undefined);
      // It may have crashed between the race and the DELETE.
      if (child.exitCode === null && child.signalCode === null) {
        this.expectedDown.delete(name);
        return false;
      }
      code = child.exitCode;
    }
    if (code === FAILPOINT_PANIC_EXIT_CODE) return true;
    // Down, but not by the failpoint: a crash the nemesis did not cause. It stays in
    // expectedDown so that the heal restarts it; the run reports it.
    const p = this.tc.pg.process(name);
    this.unexpectedExits.push({ name, code, signal: child.signalCode, logTail: logTail(p) });
    return false;
  }

  /** Whether the process is down (killed, crashed) rather than running or paused. */
  isDown(name: string): boolean {
    const c = this.tc.pg.process(name).child;
    return c.exitCode !== null || c.signalCode !== null;
  }

  /** Undo every fault still in place: resume paused processes, restart killed ones. */
  async healAll(): Promise<void> {
    for (const name of [...this.paused]) this.resume(name);
    await this.clearFailpoints().catch(() => undefined);
    const down = [...this.expectedDown];
    // PD first: stores register with it while they start.
    down.sort((a, b) => (a === 'pd' ? -1 : b === 'pd' ? 1 : a.localeCompare(b)));
    for (const name of down) await this.restart(name);
  }

  /** Stops every process; `keep` leaves the data dir and logs for a post-mortem. */
  async stop(opts: { keep: boolean }): Promise<void> {
    this.stopping = true;
    for (const name of [...this.paused]) this.resume(name);
    for (const c of this.tc.clients) c.close();
    this.pdClient?.close();
    await this.tc.pg.stop();
    if (!opts.keep) fs.rmSync(this.tc.dir, { recursive: true, force: true });
  }
}

// Named failpoints (TiKV's fail-rs, etcd's gofail): code marks a crash window with
// `failpoint('raft_log_after_write')`, and a test makes that point crash the process,
// throw an injected error, sleep or pause — by flag, environment or, if the process
// allows it, through its status port. Names live in failpoint_names.ts, the action
// grammar in failpoint_spec.ts.
//
// Free when off: with no failpoint set, a hit is one test of a module-level boolean; with
// some set, one Map lookup. Nothing is allocated either way.
//
// One process, one registry (like fail-rs): failpoints are process-wide. Several stores
// in one test process share them.
//
// Synchronous and asynchronous sites. Node runs JavaScript on one thread, so a site in
// synchronous code (the store loop, SQLite writes) cannot wait without stopping the whole
// process — timers, sockets and the status port included:
//   - sleep(ms) there blocks the thread for ms (Atomics.wait), as a slow fsync would;
//   - pause there blocks the thread until released. The status port cannot release it
//     (it is on the blocked thread), so the process announces the pause in a file,
//     pauseFilePath(pid), holding the failpoint's name; deleting that file releases the
//     process and turns the failpoint off. Kill -9 works as always.
// Asynchronous sites (failpointAsync, and the transport's delays) wait without blocking:
// sleep is a timer, and pause awaits the failpoint being changed or removed — through
// the status port, for example.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FailpointName, isFailpointName } from './failpoint_names.js';
import {
  FailpointAction,
  FailpointSpecError,
  FailpointTerm,
  formatFailpointSpec,
  parseFailpointList,
  parseFailpointSpec,
} from './failpoint_spec.js';

export { FailpointSpecError };

/** The exit code of a `panic`: what a panicking Rust process (fail-rs's panic) exits with. */
export const FAILPOINT_PANIC_EXIT_CODE = 101;

/** The error `return` throws at a site. */
export class FailpointError extends Error {
  override name = 'FailpointError';
  constructor(
    readonly failpoint: string,
    readonly arg: string | undefined,
  ) {
    super(`failpoint ${failpoint}: injected error${arg !== undefined ? ` (${arg})` : ''}`);
  }
}

interface ActiveFailpoint {
  readonly name: string;
  readonly terms: FailpointTerm[];
  /** Times a term fired. */
  hits: number;
  /** Async sites paused here: released when the failpoint is changed or removed. */
  waiters: (() => void)[];
}

/** What a list entry shows. */
export interface FailpointInfo {
  name: string;
  /** The action as set, counts as remaining now. */
  action: string;
  hits: number;
  /** Asynchronous sites waiting in `pause` here. */
  paused: number;
}

let anyActive = false;
const active = new Map<string, ActiveFailpoint>();

// --- the hot path ---

/** Whether any failpoint is set: callers that must build a name first test this. */
export function failpointsActive(): boolean {
  return anyActive;
}

/**
 * A synchronous site. `return(arg)` throws a FailpointError; `sleep` blocks the thread;
 * `pause` blocks the process until released (see the top of this file); `panic` exits.
 */
export function failpoint(name: FailpointName): void {
  if (!anyActive) return;
  const fp = active.get(name);
  if (fp === undefined) return;
  const a = fire(fp);
  if (a === undefined) return;
  switch (a.kind) {
    case 'return':
      throw new FailpointError(name, a.arg);
    case 'sleep':
      blockThread(a.ms);
      return;
    case 'pause':
      pauseProcess(name);
      return;
  }
}

/**
 * An asynchronous site: undefined when nothing fired (so `await` costs nothing extra on
 * the common path), else a promise that sleeps, waits out a pause, or rejects with a
 * FailpointError for `return`.
 */
export function failpointAsync(name: FailpointName): Promise<void> | undefined {
  if (!anyActive) return undefined;
  const fp = active.get(name);
  if (fp === undefined) return undefined;
  const a = fire(fp);
  if (a === undefined) return undefined;
  switch (a.kind) {
    case 'return':
      return Promise.reject(new FailpointError(name, a.arg));
    case 'sleep':
      return new Promise((resolve) => setTimeout(resolve, a.ms));
    case 'pause':
      return untilChanged(fp);
  }
}

/**
 * A site that interprets the action itself (the transport: `return` = drop, `sleep` =
 * delay). `panic` and `print` act as everywhere; the rest is returned. For `pause`, the
 * caller waits on `untilFailpointChanged(name)`.
 */
export function evalFailpoint(
  name: FailpointName,
): Exclude<FailpointAction, { kind: 'off' | 'panic' | 'print' }> | undefined {
  if (!anyActive) return undefined;
  const fp = active.get(name);
  return fp === undefined ? undefined : fire(fp);
}

/** Resolves when the failpoint is next set or removed (at once if it is not set). */
export function untilFailpointChanged(name: string): Promise<void> {
  const fp = active.get(name);
  return fp === undefined ? Promise.resolve() : untilChanged(fp);
}

/** Pick the term that fires, if any; act on panic and print here. */
function fire(
  fp: ActiveFailpoint,
): Exclude<FailpointAction, { kind: 'off' | 'panic' | 'print' }> | undefined {
  for (const t of fp.terms) {
    if (t.remaining === 0) continue;
    if (t.probability < 1 && !(Math.random() < t.probability)) continue;
    if (t.remaining !== undefined) t.remaining--;
    fp.hits++;
    const a = t.action;
    switch (a.kind) {
      case 'off':
        return undefined;
      case 'panic':
        return crash(fp.name, a.msg);
      case 'print':
        logLine(30, fp.name, a.msg ?? 'failpoint hit');
        return undefined;
      default:
        return a;
    }
  }
  return undefined;
}

function untilChanged(fp: ActiveFailpoint): Promise<void> {
  return new Promise((resolve) => fp.waiters.push(resolve));
}

// --- actions that stop the process ---

/**
 * Exit at once, without cleanup, as a crash would: no 'exit' handlers, no servers
 * closed, no databases closed, nothing flushed — except one line on stderr saying why.
 * process.reallyExit is the step of process.exit() after the 'exit' event.
 */
function crash(name: string, msg: string | undefined): never {
  logLine(60, name, `failpoint panic: exiting${msg !== undefined ? ` (${msg})` : ''}`);
  const reallyExit = (process as unknown as { reallyExit?: (code: number) => never }).reallyExit;
  if (typeof reallyExit === 'function') reallyExit.call(process, FAILPOINT_PANIC_EXIT_CODE);
  process.exit(FAILPOINT_PANIC_EXIT_CODE);
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Block this thread for ms: nothing else in the process runs meanwhile. */
function blockThread(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** Where a process paused in synchronous code says so; deleting the file releases it. */
export function pauseFilePath(pid: number = process.pid): string {
  return path.join(os.tmpdir(), `nyx-failpoint-paused-${pid}`);
}

/** How often a synchronously paused process looks whether it was released. */
const PAUSE_POLL_MS = 10;

function pauseProcess(name: string): void {
  const file = pauseFilePath();
  fs.writeFileSync(file, `${name}\n`);
  logLine(40, name, `failpoint pause: the process is blocked; delete ${file} to resume`);
  while (fs.existsSync(file)) blockThread(PAUSE_POLL_MS);
  // The release is the change a pause waits for: without it the next hit would pause again.
  removeFailpoint(name);
  logLine(30, name, 'failpoint pause released');
}

/** One JSON line on stderr, shaped like the process's other log lines, written at once. */
function logLine(level: number, name: string, msg: string): void {
  const line = JSON.stringify({
    level,
    time: new Date().toISOString(),
    component: 'failpoint',
    pid: process.pid,
    failpoint: name,
    msg,
  });
  try {
    fs.writeSync(2, line + '\n');
  } catch {
    // stderr is gone: nothing else to tell
  }
}

// --- control ---

/**
 * Set (or with `off`, remove) a failpoint. Throws FailpointSpecError for an unknown name
 * or a bad action. Anything paused at the old setting is released.
 */
export function setFailpoint(name: string, spec: string): void {
  if (!isFailpointName(name)) throw new FailpointSpecError(`unknown failpoint "${name}"`);
  const terms = parseFailpointSpec(spec);
  if (terms.length === 1 && terms[0]!.action.kind === 'off' && terms[0]!.probability === 1) {
    removeFailpoint(name);
    return;
  }
  const old = active.get(name);
  active.set(name, { name, terms, hits: 0, waiters: [] });
  anyActive = true;
  if (old) release(old);
}

/** Remove a failpoint; true if it was set. Anything paused at it is released. */
export function removeFailpoint(name: string): boolean {
  const old = active.get(name);
  if (!old) return false;
  active.delete(name);
  anyActive = active.size > 0;
  release(old);
  return true;
}

/** Remove every failpoint (tests). */
export function clearFailpoints(): void {
  for (const name of [...active.keys()]) removeFailpoint(name);
}

/**
 * Apply a list (`--failpoints` / NYX_FAILPOINTS): every entry is checked before any is
 * set, so a bad list changes nothing. Returns what was set.
 */
export function configureFailpoints(list: string): FailpointInfo[] {
  const settings = parseFailpointList(list);
  for (const s of settings) {
    if (!isFailpointName(s.name)) throw new FailpointSpecError(`unknown failpoint "${s.name}"`);
  }
  for (const s of settings) setFailpoint(s.name, s.spec);
  return listFailpoints();
}

export function listFailpoints(): FailpointInfo[] {
  return [...active.values()]
    .map((fp) => ({
      name: fp.name,
      action: formatFailpointSpec(fp.terms),
      hits: fp.hits,
      paused: fp.waiters.length,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function release(fp: ActiveFailpoint): void {
  const waiters = fp.waiters;
  fp.waiters = [];
  for (const w of waiters) w();
}

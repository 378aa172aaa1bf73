// Free TCP ports on 127.0.0.1, for tools and tests that start servers on fixed flags.
//
// Ports are drawn below the kernel's ephemeral range: a port from the ephemeral range
// (what listen(0) hands out) can be taken between the check and the listen by any
// outgoing connection — for instance the one a just-started store opens to PD — and
// the next process of a cluster then fails with "address already in use". Below that
// range only another listener can take it, and tryListen sees those.
//
// A listen check alone still races with another process doing the same thing: two test
// files run side by side can both find a port free and both hand it out before either
// server binds it — or one hands out the port of a store the other has killed and is
// about to restart. So every port handed out is also claimed: a file named after it is
// created exclusively in a shared directory and holds the claimer's pid. A claim lasts
// for the life of the process that made it (it never hands the port out twice, even
// after the server on it stopped); claims of dead processes are taken over.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Lowest port handed out: above the well-known and usual registered service ports. */
const LOWEST_PORT = 10_000;

/** Where claims live (exported for tests): one empty-but-for-a-pid file per claimed port. */
export const CLAIM_DIR = path.join(os.tmpdir(), 'nyx-port-claims');

/** Ports this process claimed; their files are removed when it exits. */
const claimedHere = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first port of the kernel's ephemeral range (Linux), or the IANA default. */
function ephemeralLow(): number {
  try {
    const [low] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > LOWEST_PORT + 1000) return n;
  } catch {
    // Not Linux: fall through.
  }
  return 49_152;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseClaims(): void {
  for (const port of claimedHere) {
    try {
      fs.unlinkSync(path.join(CLAIM_DIR, String(port)));
    } catch {
      // Already gone: nothing to release.
    }
  }
  claimedHere.clear();
}

/**
 * Claim one port for this process; false if a live process holds it (or this one already
 * handed it out). A claim left by a dead process is removed and retried once.
 */
export function claimPort(port: number): boolean {
  fs.mkdirSync(CLAIM_DIR, { recursive: true });
  if (claimedHere.has(port)) return false;
  const file = path.join(CLAIM_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (claimedHere.size === 0) process.once('exit', releaseClaims);
      claimedHere.add(port);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(file, 'utf8'));
      } catch {
        // Removed between our attempt and the read: try again.
        continue;
      }
      // A file still being written reads empty (NaN): its writer is alive.
      if (!Number.isInteger(holder) || holder <= 0 || alive(holder)) return false;
      try {
        fs.unlinkSync(file);
      } catch {
        // Another process took the stale claim over first.
      }
    }
  }
  return false;
}

function unclaim(port: number): void {
  if (!claimedHere.delete(port)) return;
  try {
    fs.unlinkSync(path.join(CLAIM_DIR, String(port)));
  } catch {
    // Already gone.
  }
}

/** The first of n consecutive ports that are all free now (stores take consecutive ports). */
export async function freePortRange(n: number): Promise<number> {
  fs.mkdirSync(CLAIM_DIR, { recursive: true });
  const high = ephemeralLow();
  for (let attempt = 0; ; attempt++) {
    if (attempt === 10_000)
      throw new Error(`no ${n} consecutive free ports in ${LOWEST_PORT}-${high - 1}`);
    const base = LOWEST_PORT + Math.floor(Math.random() * (high - LOWEST_PORT - n));
    const ports = Array.from({ length: n }, (_, i) => base + i);
    const claimed: number[] = [];
    for (const p of ports) {
      if (!claimPort(p)) break;
      claimed.push(p);
    }
    if (claimed.length === n) {
      const free = await Promise.all(ports.map(tryListen));
      if (free.every(Boolean)) return base;
    }
    claimed.forEach(unclaim);
  }
}

/** A port that is free now. */
export function freePort(): Promise<number> {
  return freePortRange(1);
}

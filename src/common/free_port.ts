// Free TCP ports on 127.0.0.1, for tools and tests that start servers on fixed flags.
//
// Ports are drawn below the kernel's ephemeral range: a port from the ephemeral range
// (what listen(0) hands out) can be taken between the check and the listen by any
// outgoing connection — for instance the one a just-started store opens to PD — and
// the next process of a cluster then fails with "address already in use". Below that
// range only another listener can take it, and tryListen sees those.
import fs from 'node:fs';
import net from 'node:net';

/** Lowest port handed out: above the well-known and usual registered service ports. */
const LOWEST_PORT = 10_000;

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

/** The first of n consecutive ports that are all free now (stores take consecutive ports). */
export async function freePortRange(n: number): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; ; attempt++) {
    if (attempt === 10_000)
      throw new Error(`no ${n} consecutive free ports in ${LOWEST_PORT}-${high - 1}`);
    const base = LOWEST_PORT + Math.floor(Math.random() * (high - LOWEST_PORT - n));
    const free = await Promise.all(Array.from({ length: n }, (_, i) => tryListen(base + i)));
    if (free.every(Boolean)) return base;
  }
}

/** A port that is free now. */
export function freePort(): Promise<number> {
  return freePortRange(1);
}

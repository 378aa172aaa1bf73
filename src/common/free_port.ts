// Free TCP ports on 127.0.0.1, for tools and tests that start servers on fixed flags.
// A port found free can be taken by someone else before it is used; callers that start
// processes on it retry on "address in use".
import net from 'node:net';

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** A port the OS says is free now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await tryListen(0);
    if (port !== undefined) return port;
  }
}

/** The first of n consecutive ports that are all free now (stores take consecutive ports). */
export async function freePortRange(n: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + n > 65535) continue;
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => tryListen(base + i)));
    if (ok.every((p) => p !== undefined)) return base;
  }
}

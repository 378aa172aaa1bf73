// host:port addresses as flags and configs spell them ("127.0.0.1:2379", "[::1]:2379",
// "localhost:0"). Port 0 asks the OS for a free port; the server reports the real one.

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(addr: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new RangeError(`bad address ${JSON.stringify(addr)}: want host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An address others can dial: a wildcard bind host becomes loopback. */
export function dialableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

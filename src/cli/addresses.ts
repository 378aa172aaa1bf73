// host:port flags checked when the command line is parsed, so a typo is refused at once
// with one line instead of surfacing later as a hang or a gRPC error ("localhost" without
// a port, port 99999, "exa mple:1").
import net from 'node:net';

/** Which ports a flag accepts: a listen address may ask for port 0 (any free port). */
export type AddressUse = 'dial' | 'listen';

// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function validHost(host: string): boolean {
  if (net.isIPv4(host)) return true;
  if (host.length > 253) return false;
  const labels = host.replace(/\.$/, '').split('.');
  // All-numeric dotted names that are not valid IPv4 ("1.2.3.999") are typos, not hosts.
  if (labels.every((l) => /^\d+$/.test(l))) return false;
  return labels.every((l) => LABEL.test(l));
}

/**
 * Checks one host:port and returns it as the client and server code spells it. IPv6 hosts
 * are bracketed ("[::1]:2379"); a listen address may leave the host empty (":2379", all
 * interfaces).
 */
export function checkAddress(addr: string, use: AddressUse): string {
  const a = addr.trim();
  const quoted = JSON.stringify(a);
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(a);
  if (!m) {
    const hint = net.isIPv6(a) ? ` (bracket IPv6 hosts: [${a}]:port)` : '';
    throw new Error(`${quoted} is not host:port${hint}`);
  }
  const [, v6, name, portText] = m;
  if (v6 !== undefined && !net.isIPv6(v6)) throw new Error(`${quoted}: bad IPv6 address`);
  if (name !== undefined && name === '' && use === 'dial') throw new Error(`${quoted} has no host`);
  if (name !== undefined && name !== '' && !validHost(name))
    throw new Error(`${quoted}: ${JSON.stringify(name)} is not a valid host name or IP address`);
  if (!/^\d{1,5}$/.test(portText!)) throw new Error(`${quoted}: port must be a number`);
  const port = Number(portText);
  const min = use === 'listen' ? 0 : 1;
  if (port < min || port > 65535)
    throw new Error(`${quoted}: port ${port} is out of range (${min}-65535)`);
  return a;
}

/** "a:2379,b:2379" (a grpc:// or http:// prefix is dropped) -> checked, comma-joined. */
export function checkPdEndpoints(list: string): string {
  const items = list
    .split(',')
    .map((e) => e.trim().replace(/^(grpc|https?):\/\//, ''))
    .filter((e) => e.length > 0);
  if (items.length === 0) throw new Error('no PD address given (want host:port)');
  return items.map((e) => checkAddress(e, 'dial')).join(',');
}

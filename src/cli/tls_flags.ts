// --ca, --cert, --key (env NYX_CA, NYX_CERT, NYX_KEY): mutual TLS for every command, the
// servers and the clients alike. All three or none; with none, plaintext.
import { Flags } from '@oclif/core';
import { parseHostPort } from '../common/address.js';
import { TlsFiles, tlsOptionsFrom } from '../common/tls.js';

export const tlsFlags = {
  ca: Flags.string({
    description:
      'CA certificate (PEM) that signs every certificate of the cluster; turns on mutual TLS',
    env: 'NYX_CA',
    helpValue: 'file',
    helpGroup: 'TLS',
  }),
  cert: Flags.string({
    description: 'this process’s certificate (PEM)',
    env: 'NYX_CERT',
    helpValue: 'file',
    helpGroup: 'TLS',
  }),
  key: Flags.string({
    description: 'private key (PEM) of --cert',
    env: 'NYX_KEY',
    helpValue: 'file',
    helpGroup: 'TLS',
  }),
};

/** Loads the TLS files named by the flags (env is folded in by oclif), or undefined. */
export function tlsFromFlags(
  flags: { ca?: string; cert?: string; key?: string },
  log?: (msg: string) => void,
): TlsFiles | undefined {
  const o = tlsOptionsFrom(flags, {});
  if (!o) return undefined;
  quietIpServerNameWarning();
  return new TlsFiles(o, log);
}

/**
 * grpc-js passes the target host as the TLS server name, and Node warns (DEP0123) when it
 * is an IP address, as cluster addresses usually are. The certificate is still checked
 * against the IP (its subjectAltName); only the SNI is dropped. One line of noise on every
 * command's stderr helps nobody, so that one warning is not printed; all others are.
 */
function quietIpServerNameWarning(): void {
  if (quieted) return;
  quieted = true;
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string })?.code : rest[1];
    if (code === 'DEP0123') return;
    (emit as (...a: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
let quieted = false;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * The loud warning for a server that listens beyond loopback without TLS: anyone who can
 * reach such a port can read and write every key and talk to PD and stores as a store.
 */
export function plaintextWarning(tls: TlsFiles | undefined, addrs: string[]): string | undefined {
  if (tls) return undefined;
  const open = addrs.filter((a) => !LOOPBACK.test(parseHostPort(a).host));
  if (open.length === 0) return undefined;
  return (
    `WARNING: listening on ${open.join(', ')} WITHOUT TLS. Anyone who can reach ` +
    `${open.length > 1 ? 'these ports' : 'this port'} can read and change all data and act as any store. ` +
    `Use --ca, --cert and --key (nyx playground --tls shows how).`
  );
}

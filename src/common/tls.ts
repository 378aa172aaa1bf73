// Mutual TLS for every NyxDB port, in one place: the options (--ca, --cert, --key, as
// TiKV and etcd name them; env NYX_CA, NYX_CERT, NYX_KEY), the gRPC server and channel
// credentials, the HTTPS options of the status port, and who a peer's certificate names.
//
// Rotation: the three files are polled (every 2 s by default) and, when one changed and
// the new set loads, every user is handed the new certificates. gRPC uses grpc-js 1.14's
// CertificateProvider interface (experimental.createCertificateProvider{Server,Channel}-
// Credentials): grpc-js itself calls setSecureContext on its HTTP/2 server and builds new
// client connections from the newest certificates. We implement the provider rather than
// use grpc-js's FileWatcherCertificateProvider because that one re-reads the files on
// every tick, hands half-written files on (a key that does not match its certificate
// breaks every new handshake until the next tick) and keeps the process alive with a
// timer that is not unref'd. Established connections keep the certificates they were
// made with, as in TiKV; new ones use the new files.
import fs from 'node:fs';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';

export interface TlsOptions {
  /** PEM file of the CA that signs every certificate of the cluster. */
  ca: string;
  /** PEM certificate of this process (client or server). */
  cert: string;
  /** PEM private key of cert. */
  key: string;
  /** How often the files are checked for changes (ms). */
  refreshMs?: number;
}

/** The TLS options from flags, else env; all three or none. */
export function tlsOptionsFrom(
  flags: { ca?: string; cert?: string; key?: string },
  env: NodeJS.ProcessEnv = process.env,
): TlsOptions | undefined {
  const ca = flags.ca ?? (env.NYX_CA || undefined);
  const cert = flags.cert ?? (env.NYX_CERT || undefined);
  const key = flags.key ?? (env.NYX_KEY || undefined);
  const given = [ca, cert, key].filter((x) => x !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3)
    throw new Error('TLS needs all of --ca, --cert and --key (or NYX_CA, NYX_CERT, NYX_KEY)');
  return { ca: ca!, cert: cert!, key: key! };
}

const DEFAULT_REFRESH_MS = 2000;

interface Material {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

type CaListener = (u: { caCertificate: Buffer } | null) => void;
type IdentityListener = (u: { certificate: Buffer; privateKey: Buffer } | null) => void;

/**
 * The CA, certificate and key of one process, kept current: loaded (and checked) at
 * once, then reloaded when a file changes. Implements grpc-js's CertificateProvider.
 */
export class TlsFiles {
  private material: Material;
  private stamp: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly changeListeners = new Set<(m: Material) => void>();
  /** Reloads that took new files (for tests and logs). */
  reloads = 0;

  constructor(
    readonly options: TlsOptions,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    // The stamp before the load: files replaced in between are loaded again at the next
    // poll rather than missed. A missing file is reported by load() with its name.
    let stamp = '';
    try {
      stamp = this.statStamp();
    } catch {
      // load() says which file
    }
    this.material = load(options);
    this.stamp = stamp;
    this.timer = setInterval(() => this.poll(), options.refreshMs ?? DEFAULT_REFRESH_MS);
    this.timer.unref();
  }

  /** The certificate of this process, parsed. */
  get certificate(): X509Certificate {
    return new X509Certificate(this.material.cert);
  }

  /** Server credentials that demand and verify a client certificate signed by the CA. */
  serverCredentials(): grpc.ServerCredentials {
    return grpc.experimental.createCertificateProviderServerCredentials(this, this, true);
  }

  /** Channel credentials presenting this process's certificate, trusting only the CA. */
  channelCredentials(): grpc.ChannelCredentials {
    return grpc.experimental.createCertificateProviderChannelCredentials(this, this);
  }

  /** Options for an HTTPS server with the same rules (see onChange for rotation). */
  httpsOptions(): tls.SecureContextOptions & tls.TlsOptions {
    return { ...this.material, requestCert: true, rejectUnauthorized: true };
  }

  /** Options for an HTTPS client (a status page fetch). */
  clientOptions(): { ca: Buffer; cert: Buffer; key: Buffer } {
    return { ...this.material };
  }

  /** Called with the new files after each reload (e.g. https.Server#setSecureContext). */
  onChange(f: (m: Material) => void): () => void {
    this.changeListeners.add(f);
    return () => this.changeListeners.delete(f);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // --- grpc-js CertificateProvider ---
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    // Later, as grpc-js's own providers do: its credentials register their watcher after
    // adding the listener, and would miss a synchronous update.
    process.nextTick(() => l({ caCertificate: this.material.ca }));
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.add(l);
    process.nextTick(() => l({ certificate: this.material.cert, privateKey: this.material.key }));
  }
  removeIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.delete(l);
  }

  /** Checks the files now (tests call it instead of waiting for the timer). */
  poll(): boolean {
    let stamp: string;
    try {
      stamp = this.statStamp();
    } catch {
      return false; // a file is being replaced; the next poll sees the result
    }
    if (stamp === this.stamp) return false;
    let next: Material;
    try {
      next = load(this.options);
    } catch (e) {
      // Half-written or mismatched files: keep serving with the old ones, try again later.
      this.log(`TLS files changed but do not load yet: ${(e as Error).message}`);
      return false;
    }
    this.stamp = stamp;
    this.material = next;
    this.reloads++;
    this.log('TLS certificates reloaded');
    for (const l of this.caListeners) l({ caCertificate: next.ca });
    for (const l of this.identityListeners) l({ certificate: next.cert, privateKey: next.key });
    for (const l of this.changeListeners) l(next);
    return true;
  }

  private statStamp(): string {
    const o = this.options;
    return [o.ca, o.cert, o.key]
      .map((f) => {
        const s = fs.statSync(f);
        return `${s.mtimeMs}:${s.size}:${s.ino}`;
      })
      .join('|');
  }
}

/** Reads and checks the three files: PEM that Node accepts, a key that fits the certificate. */
function load(o: TlsOptions): Material {
  const read = (what: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${(e as Error).message}`);
    }
  };
  const m = { ca: read('CA', o.ca), cert: read('certificate', o.cert), key: read('key', o.key) };
  try {
    // Throws on bad PEM and on a key that does not belong to the certificate.
    tls.createSecureContext(m);
    new X509Certificate(m.ca);
  } catch (e) {
    throw new Error(`TLS files ${o.cert} / ${o.key} / ${o.ca}: ${(e as Error).message}`);
  }
  return m;
}

/**
 * A store's certificate names its store id in its subject common name, "store-<id>"
 * (PD's and clients' certificates name no store). Undefined for any other name.
 */
export function storeIdOfCommonName(cn: string | undefined): number | undefined {
  const m = /^store-([1-9][0-9]{0,15})$/.exec(cn ?? '');
  if (!m) return undefined;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}

export const STORE_COMMON_NAME = (id: number): string => `store-${id}`;

/** The subject common name of a parsed certificate (X509Certificate#subject is "K=V\n..."). */
export function commonNameOf(cert: X509Certificate): string | undefined {
  return cert.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3);
}

/**
 * Who a gRPC call's peer is, when the server runs TLS: the store id its certificate
 * names, or 0 for an authenticated caller that is no store (a client, PD). Undefined in
 * plaintext. grpc-js has verified the chain against the CA before any handler runs.
 */
export function peerStoreId(call: {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: tls.PeerCertificate };
}): number | undefined {
  const ctx = call.getAuthContext();
  if (ctx.transportSecurityType !== 'ssl') return undefined;
  const cn = ctx.sslPeerCertificate?.subject?.CN;
  return storeIdOfCommonName(Array.isArray(cn) ? cn[0] : cn) ?? 0;
}

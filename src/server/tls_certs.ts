// Throw-away certificates for `nyx playground --tls` and tests: a CA, a certificate for
// PD, one per store (common name store-<id>: a store's identity is its certificate) and
// one for clients, all for loopback (IP 127.0.0.1, ::1 and DNS localhost). ECDSA P-256,
// made with @peculiar/x509 over Node's webcrypto, so no openssl is needed. Not for
// production: the CA key lies next to the certificates.
import fs from 'node:fs';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface CertFiles {
  cert: string;
  key: string;
}

export interface ClusterCerts {
  dir: string;
  ca: string;
  pd: CertFiles;
  stores: CertFiles[];
  client: CertFiles;
}

/** A CA that can issue certificates (its key stays in memory, and in ca.key on disk). */
export class TestCa {
  private constructor(
    private readonly keys: CryptoKeyPair,
    readonly cert: x509.X509Certificate,
  ) {}

  static async create(name = 'nyx playground CA'): Promise<TestCa> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${name}`,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 365 * DAY_MS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new TestCa(keys, cert);
  }

  /** Writes the CA certificate (and its key) as PEM; returns the certificate's path. */
  async write(dir: string): Promise<string> {
    fs.mkdirSync(dir, { recursive: true });
    const ca = path.join(dir, 'ca.crt');
    fs.writeFileSync(ca, this.cert.toString('pem') + '\n');
    fs.writeFileSync(path.join(dir, 'ca.key'), await pemKey(this.keys.privateKey), { mode: 0o600 });
    return ca;
  }

  /** A certificate for both server and client use, written as <dir>/<file>.crt/.key. */
  async issue(commonName: string, dir: string, file = commonName): Promise<CertFiles> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${commonName}`,
      issuer: this.cert.subject,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 365 * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
          { type: 'dns', value: 'localhost' },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(this.keys.publicKey),
      ],
    });
    fs.mkdirSync(dir, { recursive: true });
    const out = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
    // Key first, then the certificate: a process polling them sees a matching pair only
    // once both are written (it refuses a mismatched pair and keeps its old one).
    writeAtomically(out.key, await pemKey(keys.privateKey), 0o600);
    writeAtomically(out.cert, cert.toString('pem') + '\n', 0o644);
    return out;
  }
}

/** A CA and the certificates of a playground with `stores` stores (ids 1..stores). */
export async function generateClusterCerts(dir: string, stores: number): Promise<ClusterCerts> {
  const ca = await TestCa.create();
  return {
    dir,
    ca: await ca.write(dir),
    pd: await ca.issue('pd', dir),
    stores: await Promise.all(
      Array.from({ length: stores }, (_, i) => ca.issue(`store-${i + 1}`, dir, `store${i + 1}`)),
    ),
    client: await ca.issue('client', dir),
  };
}

/** The files generateClusterCerts writes, if they are all there (a later playground run). */
export function existingClusterCerts(dir: string, stores: number): ClusterCerts | undefined {
  const pair = (f: string) => ({
    cert: path.join(dir, `${f}.crt`),
    key: path.join(dir, `${f}.key`),
  });
  const c: ClusterCerts = {
    dir,
    ca: path.join(dir, 'ca.crt'),
    pd: pair('pd'),
    stores: Array.from({ length: stores }, (_, i) => pair(`store${i + 1}`)),
    client: pair('client'),
  };
  const files = [c.ca, c.pd, ...c.stores, c.client].flatMap((x) =>
    typeof x === 'string' ? [x] : [x.cert, x.key],
  );
  return files.every((f) => fs.existsSync(f)) ? c : undefined;
}

function serial(): string {
  // Positive (first bit clear) and unique enough for throw-away certificates.
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f;
  return Buffer.from(b).toString('hex');
}

async function pemKey(k: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', k);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

function writeAtomically(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

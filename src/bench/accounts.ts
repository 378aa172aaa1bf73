// Accounts for the transactional benchmarks, placed so that a workload can choose two in
// ONE Region (1PC) or in two DIFFERENT Regions (a cross-Region transfer) on purpose.
// Each Region gets its own accounts, keyed under the Region's start key, and every key is
// checked against the Region map PD gave us: a key that does not fall in its Region is
// dropped rather than mislabelled.
import type { Region } from '../region/meta.js';

export interface RegionLookup {
  scanRegions(start: Uint8Array, end: Uint8Array, limit?: number): Promise<{ region: Region }[]>;
}

export interface AccountLayout {
  /** Account keys, per Region (only Regions that got at least two). */
  byRegion: Buffer[][];
  all: Buffer[];
}

const TAG = 'nyxbench/acct/';

function inRegion(key: Buffer, r: Region): boolean {
  return (
    Buffer.compare(key, r.startKey) >= 0 &&
    (r.endKey.length === 0 || Buffer.compare(key, r.endKey) < 0)
  );
}

export async function layoutAccounts(pd: RegionLookup, perRegion: number): Promise<AccountLayout> {
  if (!Number.isInteger(perRegion) || perRegion < 2)
    throw new Error('at least 2 accounts per Region');
  const regions = (await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0)).map((r) => r.region);
  const width = String(perRegion - 1).length;
  const byRegion: Buffer[][] = [];
  for (const r of regions) {
    // Under the start key; the first Region (start '') needs a low first byte to stay
    // below its end, e.g. the playground's first split key '<'.
    const prefix = [r.startKey, Buffer.from('!'), Buffer.from([0])]
      .map((p) => Buffer.concat([r.startKey.length === 0 ? p : r.startKey, Buffer.from(TAG)]))
      .find((p) => inRegion(p, r));
    if (!prefix) continue;
    const keys: Buffer[] = [];
    for (let i = 0; i < perRegion; i++) {
      const k = Buffer.concat([prefix, Buffer.from(String(i).padStart(width, '0'))]);
      if (inRegion(k, r)) keys.push(k);
    }
    if (keys.length >= 2) byRegion.push(keys);
  }
  if (byRegion.length === 0) throw new Error('PD knows no Region to place accounts in');
  return { byRegion, all: byRegion.flat() };
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Two different accounts of one Region. */
export function sameRegionPair(l: AccountLayout): [Buffer, Buffer] {
  const keys = pick(l.byRegion);
  const a = Math.floor(Math.random() * keys.length);
  let b = Math.floor(Math.random() * (keys.length - 1));
  if (b >= a) b++;
  return [keys[a]!, keys[b]!];
}

/** Two accounts of two different Regions (needs two Regions). */
export function crossRegionPair(l: AccountLayout): [Buffer, Buffer] {
  const n = l.byRegion.length;
  if (n < 2) throw new Error('a cross-Region transfer needs at least 2 Regions');
  const ra = Math.floor(Math.random() * n);
  let rb = Math.floor(Math.random() * (n - 1));
  if (rb >= ra) rb++;
  return [pick(l.byRegion[ra]!), pick(l.byRegion[rb]!)];
}

// <data-dir>/store.json: the store id and the cluster id, written once (atomically, fsynced)
// when the store first registers. A data dir is bound to one cluster for ever: starting it
// against another PD is refused rather than mixing two clusters' data.
import fs from 'node:fs';
import path from 'node:path';
import { ensureDir, fsyncDir, fsyncFile } from '../storage/paths.js';

export interface StoreIdent {
  storeId: number;
  clusterId: number;
}

export function identPath(dataDir: string): string {
  return path.join(dataDir, 'store.json');
}

export function readIdent(dataDir: string): StoreIdent | undefined {
  const file = identPath(dataDir);
  if (!fs.existsSync(file)) return undefined;
  const o = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<StoreIdent>;
  if (typeof o.storeId !== 'number' || typeof o.clusterId !== 'number') {
    throw new Error(`${file} is corrupt: ${JSON.stringify(o)}`);
  }
  return { storeId: o.storeId, clusterId: o.clusterId };
}

export function writeIdent(dataDir: string, ident: StoreIdent): void {
  ensureDir(dataDir);
  const file = identPath(dataDir);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(ident, null, 2) + '\n');
  fsyncFile(tmp);
  fs.renameSync(tmp, file);
  fsyncDir(dataDir);
}

// Shared test plumbing: a fresh temp directory per test (removed afterwards), a manual
// clock, and small builders for stores and regions.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { PlacementDriver, type PlacementDriverOptions } from '../../src/pd/placement_driver.js';

export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-pd-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock tests move by hand; it may go backwards. */
export class ManualClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Opens a PD in dir; closed when the test ends unless closed earlier (double close is ok). */
export function openPd(
  t: TestContext,
  dir: string,
  opts: Omit<PlacementDriverOptions, 'dataDir'> = {},
): PlacementDriver {
  const pd = PlacementDriver.open({ dataDir: dir, ...opts });
  t.after(() => pd.close());
  return pd;
}

export function key(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A region with voters (peer id = 100 * region id + store id) on the given stores. */
export function region(
  id: number,
  start: string,
  end: string,
  version = 1,
  confVer = 1,
  stores: number[] = [1, 2, 3],
): Region {
  return {
    id,
    startKey: key(start),
    endKey: key(end),
    epoch: { confVer, version },
    peers: stores.map((s) => ({ id: id * 100 + s, storeId: s, role: PeerRole.Voter })),
  };
}

export function ids(rs: readonly { id: number }[]): number[] {
  return rs.map((r) => r.id);
}

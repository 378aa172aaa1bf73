// A Region with its one replica on store 1 (peer id*10+1), the shape the snapshot overlap
// tests build on: only range and version differ between their Regions.
import { PeerRole, type Region } from '../../src/region/meta.js';

export function singleStoreRegion(id: number, start: string, end: string, version: number): Region {
  return {
    id,
    startKey: Buffer.from(start),
    endKey: Buffer.from(end),
    epoch: { confVer: 1, version },
    peers: [{ id: id * 10 + 1, storeId: 1, role: PeerRole.Voter }],
  };
}

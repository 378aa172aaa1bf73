// Where `nyx bench split` puts its keys. Two kinds of Region, cut apart by the playground's
// initial split keys so that neither ever shares a Region with the other:
//   - fill Regions [f0000, f0001), [f0001, f0002), ...: each filled to the Region size, then
//     split once at its middle key during a split window (a fresh full Region per split);
//   - write Regions [w00, w01), ... [w<W-1>, x): the measured writers' keys.
// The Region below f0000 and the one from x on stay empty.

/** Value size of the fill writes: large values, so a Region reaches its size in few keys. */
export const FILL_VALUE_BYTES = 8 << 10;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export class SplitBenchLayout {
  constructor(
    /** Fill Regions: splits per window × runs (each is split once). */
    readonly fillRegions: number,
    readonly writeRegions: number,
    /** Bytes of values each fill Region is filled with. */
    readonly regionBytes: number,
  ) {
    if (!(fillRegions >= 1 && fillRegions <= 9999)) throw new Error('1 to 9999 fill Regions');
    if (!(writeRegions >= 1 && writeRegions <= 99)) throw new Error('1 to 99 write Regions');
    if (!(regionBytes >= FILL_VALUE_BYTES)) throw new Error(`a Region of at least 8 KiB`);
  }

  /** Keys (values of FILL_VALUE_BYTES) that make a fill Region regionBytes large. */
  get keysPerFillRegion(): number {
    return Math.ceil(this.regionBytes / FILL_VALUE_BYTES);
  }

  fillPrefix(region: number): string {
    return `f${pad(region, 4)}`;
  }

  fillKey(region: number, i: number): Buffer {
    return Buffer.from(`${this.fillPrefix(region)}:${pad(i, 8)}`);
  }

  /** The key a full fill Region is split at: its middle key, so half its data moves. */
  fillMiddleKey(region: number): Buffer {
    return this.fillKey(region, Math.floor(this.keysPerFillRegion / 2));
  }

  writeKey(region: number, n: number): Buffer {
    return Buffer.from(`w${pad(region, 2)}:${pad(n, 8)}`);
  }

  /** The playground's initial split keys: every fill and write Region its own. */
  splitKeys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.fillRegions; i++) keys.push(this.fillPrefix(i));
    for (let r = 0; r < this.writeRegions; r++) keys.push(`w${pad(r, 2)}`);
    keys.push('x');
    return keys;
  }
}

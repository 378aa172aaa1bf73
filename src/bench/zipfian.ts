// Key choice for YCSB: the Zipfian generator of Gray et al., "Quickly Generating
// Billion-Record Synthetic Databases" (SIGMOD 1994), as YCSB's ZipfianGenerator uses it
// (theta 0.99), scrambled by a hash so the popular items are spread over the key space
// (YCSB's ScrambledZipfianGenerator), and the "latest" distribution for workload D (the
// most recently inserted records are the most popular).
export const YCSB_ZIPFIAN_CONSTANT = 0.99;

export class Zipfian {
  private readonly alpha: number;
  private readonly zetan: number;
  private readonly eta: number;
  private readonly theta: number;

  constructor(
    readonly items: number,
    theta = YCSB_ZIPFIAN_CONSTANT,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(items) || items < 1) throw new RangeError('items must be >= 1');
    this.theta = theta;
    this.zetan = zeta(items, theta);
    const zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / items, 1 - theta)) / (1 - zeta2 / this.zetan);
  }

  /** An item in [0, items): 0 the most popular. */
  next(): number {
    const u = this.random();
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < 1 + Math.pow(0.5, this.theta)) return Math.min(1, this.items - 1);
    const v = Math.floor(this.items * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    return Math.min(this.items - 1, Math.max(0, v));
  }
}

function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/** FNV-1a of an item number: spreads popular items over the key space. */
export function scramble(i: number, items: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < 4; k++) {
    h ^= (i >>> (k * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % items;
}

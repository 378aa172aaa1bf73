// The command line of the simulators (npm run sim, npm run sim:store): `--name value`
// pairs and the `--verbose` switch, with whole non-negative numbers.
export interface SimArgs {
  has(name: string): boolean;
  /** The number given for --name, or `fallback`; anything but a whole number >= 0 throws. */
  num(name: string, fallback: number): number;
}

export function parseSimArgs(argv: readonly string[]): SimArgs {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === 'verbose') opts.set(key, 'true');
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      opts.set(key, v);
    }
  }
  return {
    has: (name) => opts.has(name),
    num: (name, fallback) => {
      const v = opts.get(name);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`--${name} must be a non-negative integer`);
      return n;
    },
  };
}

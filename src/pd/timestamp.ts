// The timestamp format shared by PD, the transaction layer and the CLI:
// ts = physical_ms << 18 | logical, as an unsigned 64-bit value held in a bigint.
// 18 logical bits give 262 144 timestamps per millisecond.

export const LOGICAL_BITS = 18;
/** Logical counters are in [0, MAX_LOGICAL). */
export const MAX_LOGICAL = 1 << LOGICAL_BITS;
const LOGICAL_MASK = (1n << BigInt(LOGICAL_BITS)) - 1n;

export interface TsParts {
  physical: number;
  logical: number;
}

export function composeTs(physical: number, logical: number): bigint {
  if (!Number.isSafeInteger(physical) || physical < 0) {
    throw new RangeError(`bad physical time ${physical}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical >= MAX_LOGICAL) {
    throw new RangeError(`bad logical counter ${logical}`);
  }
  return (BigInt(physical) << BigInt(LOGICAL_BITS)) | BigInt(logical);
}

export function decomposeTs(ts: bigint): TsParts {
  if (ts < 0n) throw new RangeError(`negative timestamp ${ts}`);
  return {
    physical: Number(ts >> BigInt(LOGICAL_BITS)),
    logical: Number(ts & LOGICAL_MASK),
  };
}

/** Parses a decimal (or 0x hex) timestamp as printed by `nyx tso`. */
export function parseTs(s: string): bigint {
  const t = s.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new RangeError(`not a timestamp: ${s}`);
  return BigInt(t);
}

/** The ts and its parts, e.g. for `nyx tso`: physical as an ISO-8601 UTC time. */
export function describeTs(ts: bigint): {
  ts: string;
  physical: number;
  logical: number;
  time: string;
} {
  const { physical, logical } = decomposeTs(ts);
  return { ts: ts.toString(), physical, logical, time: new Date(physical).toISOString() };
}

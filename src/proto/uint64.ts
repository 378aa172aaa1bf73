// 64-bit integers at the wire boundary. The loader delivers uint64/int64 fields as
// decimal strings (longs: String) because TSO timestamps and, in principle, any id can
// exceed 2^53. Code that keeps such values as numbers (Raft terms and indexes, ids)
// converts here and fails loudly instead of silently rounding; code that needs the full
// range (timestamps) uses bigint.

/**
 * A wire integer outside the range the code supports (or not a decimal integer at all).
 * A RangeError, so callers that map RangeErrors to "invalid argument" keep doing so; its
 * own type lets a receiver count and log the refusal as what it is: a value from the wire
 * that must not be rounded into a valid-looking one.
 */
export class Uint64RangeError extends RangeError {
  constructor(
    /** The field, as named by the caller. */
    readonly field: string,
    /** The value as it arrived. */
    readonly value: string,
    message: string,
  ) {
    super(message);
    this.name = 'Uint64RangeError';
  }
}

const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;
// The loader prints longs as plain decimal; Number() alone would also take '1e3', '0x10'
// or ' 7', none of which a well-formed message contains.
const UNSIGNED_DECIMAL = /^[0-9]+$/;
const SIGNED_DECIMAL = /^-?[0-9]+$/;

/** A non-negative safe integer or a bigint in [0, 2^64) as a wire uint64. */
export function toUint64(n: number | bigint): string {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a uint64: ${n}`);
    return String(n);
  }
  if (n < 0n || n > MAX_UINT64) throw new RangeError(`not a uint64: ${n}`);
  return n.toString();
}

/**
 * A non-negative safe integer as a wire uint64 left a number: the serializer takes
 * numbers, and printing them in decimal first only costs (it parses the string back).
 */
export function toUint64Number(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a uint64: ${n}`);
  return n;
}

/** A safe integer or a bigint in [-2^63, 2^63) as a wire int64. */
export function toInt64(n: number | bigint): string {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n)) throw new RangeError(`not an int64: ${n}`);
    return String(n);
  }
  if (n < MIN_INT64 || n > MAX_INT64) throw new RangeError(`not an int64: ${n}`);
  return n.toString();
}

/**
 * A wire uint64 as a number; throws if it does not fit exactly. `what` names the field
 * in the error, since a value this large means a bug or a corrupt peer, not bad luck.
 */
export function uint64ToNumber(v: WireUint64, what = 'value'): number {
  if (typeof v !== 'string') return wireUint64ToNumber(v, Number.MAX_SAFE_INTEGER, what);
  const s = v;
  const n = Number(s);
  if (!UNSIGNED_DECIMAL.test(s) || !Number.isSafeInteger(n)) {
    throw new Uint64RangeError(what, s, `${what} ${JSON.stringify(s)} is not a uint64 below 2^53`);
  }
  return n;
}

/**
 * A wire uint64 as a number no greater than `max`; throws Uint64RangeError otherwise.
 * For values the code does arithmetic on (Raft terms and indexes grow by one at a time),
 * `max` leaves room below 2^53 so that every result stays exact and encodable.
 */
export function boundedUint64ToNumber(s: string, max: number, what = 'value'): number {
  const n = uint64ToNumber(s, what);
  if (n > max) throw new Uint64RangeError(what, s, `${what} ${s} is above the limit ${max}`);
  return n;
}

/** The two 32-bit halves of a 64-bit integer, as protobufjs decodes one (a `Long`). */
export interface LongBits {
  low: number;
  high: number;
}

/**
 * A uint64 as a decoder hands it over: a `Long` from a deserializer that leaves them
 * alone (cheaper than printing every one in decimal, see raftTransportService), a decimal
 * string from the loader's (`longs: String`), or a number from an in-process encoder.
 */
export type WireUint64 = string | number | LongBits;

const TWO_32 = 2 ** 32;
/** The high half of 2^53: a Long whose high half is at least this does not fit a number. */
const HIGH_OF_2_53 = 2 ** 21;

/**
 * A wire uint64 of any form as a number no greater than `max`; throws Uint64RangeError
 * otherwise, never rounds. A `Long` is checked on its bits before it becomes a number.
 */
export function wireUint64ToNumber(v: WireUint64, max: number, what = 'value'): number {
  if (typeof v === 'string') return boundedUint64ToNumber(v, max, what);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0 || v > max)
      throw new Uint64RangeError(what, String(v), `${what} ${v} is not a uint64 up to ${max}`);
    return v;
  }
  const high = v.high >>> 0;
  const low = v.low >>> 0;
  const n = high * TWO_32 + low;
  if (high >= HIGH_OF_2_53 || n > max) {
    const exact = ((BigInt(high) << 32n) | BigInt(low)).toString();
    throw new Uint64RangeError(what, exact, `${what} ${exact} is above the limit ${max}`);
  }
  return n;
}

/** A wire int64 as a number; throws if it does not fit exactly. */
export function int64ToNumber(s: string, what = 'value'): number {
  const n = Number(s);
  if (!SIGNED_DECIMAL.test(s) || !Number.isSafeInteger(n)) {
    throw new Uint64RangeError(
      what,
      s,
      `${what} ${JSON.stringify(s)} is not an int64 within ±2^53`,
    );
  }
  return n;
}

/** A wire uint64 or int64 as a bigint: exact over the whole range. */
export function wireIntToBigInt(s: string): bigint {
  if (!SIGNED_DECIMAL.test(s))
    throw new RangeError(`${JSON.stringify(s)} is not a decimal integer`);
  return BigInt(s);
}

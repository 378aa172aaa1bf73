// Shape checks for what a store registers: its addresses and labels. A store record is
// handed to every client and store that routes traffic, so garbage here spreads; and it is
// persisted, so its size must be bounded.
import { PdError, PdErrorCode } from './errors.js';
import {
  MAX_ADDRESS_CHARS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  MAX_STORE_LABELS,
} from './trust_limits.js';
import type { StoreLabel } from './types.js';

// A DNS name or IPv4 address, or an IPv6 address in brackets; then a port.
const HOST_PORT =
  /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/;
// As PD spells label keys and values: letters, digits and a little punctuation, so they
// can appear in placement rules, logs and tables without quoting.
const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9._/-]+$/;

function invalid(msg: string): PdError {
  return new PdError(PdErrorCode.InvalidArgument, msg);
}

/**
 * A dialable host:port: a host name, IPv4 or [IPv6] and a port in 1..65535 (port 0 means
 * "any" to a listener, but is not an address anyone can dial).
 */
export function validateStoreAddress(addr: string, what: string): void {
  if (addr.length === 0) throw invalid(`${what} is empty`);
  if (addr.length > MAX_ADDRESS_CHARS) {
    throw invalid(`${what} is ${addr.length} characters long (at most ${MAX_ADDRESS_CHARS})`);
  }
  const m = HOST_PORT.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw invalid(`${what} ${JSON.stringify(addr)} is not host:port with a port in 1..65535`);
  }
}

/** At most MAX_STORE_LABELS labels, distinct keys, bounded sizes, a plain alphabet. */
export function validateLabels(labels: readonly StoreLabel[]): void {
  if (labels.length > MAX_STORE_LABELS) {
    throw invalid(`${labels.length} labels (at most ${MAX_STORE_LABELS})`);
  }
  const seen = new Set<string>();
  for (const { key, value } of labels) {
    if (Buffer.byteLength(key) > MAX_LABEL_KEY_BYTES || !LABEL_KEY.test(key)) {
      throw invalid(
        `label key ${JSON.stringify(key.slice(0, 80))} is not 1..${MAX_LABEL_KEY_BYTES} of [A-Za-z0-9._/-] starting and ending with a letter or digit`,
      );
    }
    if (Buffer.byteLength(value) > MAX_LABEL_VALUE_BYTES || !LABEL_VALUE.test(value)) {
      throw invalid(
        `label ${key}: value ${JSON.stringify(value.slice(0, 80))} is not 1..${MAX_LABEL_VALUE_BYTES} of [A-Za-z0-9._/-]`,
      );
    }
    if (seen.has(key)) throw invalid(`label key ${key} appears twice`);
    seen.add(key);
  }
}

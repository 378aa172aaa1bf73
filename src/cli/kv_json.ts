// The JSON objects the kv commands print: byte strings under one named encoding per object
// (see encoding.ts), so a script can always get the exact bytes back.
import { jsonBytes, jsonEncodingFor, type Encoding, type JsonEncoding } from './encoding.js';

export interface KvJson {
  key: string;
  value?: string | null;
  encoding: JsonEncoding;
  [field: string]: unknown;
}

/**
 * `{key, value?, ...extra, encoding}`. A value of undefined leaves the field out (keys
 * only); null is kept (a missing key).
 */
export function kvJson(
  key: Uint8Array,
  value: Uint8Array | null | undefined,
  enc: Encoding,
  extra: Record<string, unknown> = {},
): KvJson {
  const encoding = jsonEncodingFor([key, value ?? undefined], enc);
  return {
    key: jsonBytes(key, encoding),
    ...(value === undefined ? {} : { value: value === null ? null : jsonBytes(value, encoding) }),
    ...extra,
    encoding,
  };
}

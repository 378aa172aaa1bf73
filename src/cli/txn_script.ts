// The little language of `nyx txn exec`: one operation a line,
//   get K | put K V | delete K | scan START END [LIMIT] | commit | rollback
// blank lines and lines starting with # are ignored. A word is either bare (no spaces,
// no quotes) or a JSON string ("two words", "tab\there"), decoded then with the
// command's --hex / --base64 like any argument. The script must end with commit or
// rollback, and nothing may follow it.
import { decodeArg, type Encoding } from './encoding.js';

export type ScriptOp =
  | { op: 'get'; key: Buffer; line: number }
  | { op: 'put'; key: Buffer; value: Buffer; line: number }
  | { op: 'delete'; key: Buffer; line: number }
  | { op: 'scan'; start: Buffer; end: Buffer; limit?: number; line: number }
  | { op: 'commit'; line: number }
  | { op: 'rollback'; line: number };

export class ScriptError extends Error {}

/** Splits a line into words: bare words and JSON strings. */
export function splitWords(line: string, lineNo: number): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) {
      i++;
      continue;
    }
    if (line[i] === '"') {
      // Find the closing quote, skipping escaped characters.
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) throw new ScriptError(`line ${lineNo}: unterminated string`);
      try {
        words.push(JSON.parse(line.slice(i, j + 1)) as string);
      } catch {
        throw new ScriptError(`line ${lineNo}: bad string ${line.slice(i, j + 1)}`);
      }
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !/\s/.test(line[j]!)) j++;
    const w = line.slice(i, j);
    if (w.includes('"')) throw new ScriptError(`line ${lineNo}: stray quote in ${w}`);
    words.push(w);
    i = j;
  }
  return words;
}

export function parseScript(text: string, enc: Encoding): ScriptOp[] {
  const ops: ScriptOp[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const trimmed = lines[n]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [verb, ...args] = splitWords(trimmed, lineNo);
    const arity = (min: number, max = min): void => {
      if (args.length < min || args.length > max) {
        const want = min === max ? `${min}` : `${min} to ${max}`;
        throw new ScriptError(
          `line ${lineNo}: ${verb} takes ${want} argument(s), got ${args.length}`,
        );
      }
    };
    const bytes = (s: string, what: string): Buffer => {
      try {
        return decodeArg(s, enc, what);
      } catch (e) {
        throw new ScriptError(`line ${lineNo}: ${(e as Error).message}`);
      }
    };
    if (ops.length > 0 && ['commit', 'rollback'].includes(ops[ops.length - 1]!.op)) {
      throw new ScriptError(`line ${lineNo}: nothing may follow ${ops[ops.length - 1]!.op}`);
    }
    switch (verb) {
      case 'get':
        arity(1);
        ops.push({ op: 'get', key: bytes(args[0]!, 'key'), line: lineNo });
        break;
      case 'put':
        arity(2);
        ops.push({
          op: 'put',
          key: bytes(args[0]!, 'key'),
          value: bytes(args[1]!, 'value'),
          line: lineNo,
        });
        break;
      case 'delete':
        arity(1);
        ops.push({ op: 'delete', key: bytes(args[0]!, 'key'), line: lineNo });
        break;
      case 'scan': {
        arity(2, 3);
        let limit: number | undefined;
        if (args[2] !== undefined) {
          limit = Number(args[2]);
          if (!Number.isInteger(limit) || limit < 1) {
            throw new ScriptError(
              `line ${lineNo}: scan limit ${JSON.stringify(args[2])} is not a positive integer`,
            );
          }
        }
        ops.push({
          op: 'scan',
          start: bytes(args[0]!, 'start key'),
          end: bytes(args[1]!, 'end key'),
          limit,
          line: lineNo,
        });
        break;
      }
      case 'commit':
      case 'rollback':
        arity(0);
        ops.push({ op: verb, line: lineNo });
        break;
      default:
        throw new ScriptError(
          `line ${lineNo}: unknown operation ${JSON.stringify(verb)} (get, put, delete, scan, commit, rollback)`,
        );
    }
  }
  const last = ops[ops.length - 1];
  if (!last || (last.op !== 'commit' && last.op !== 'rollback')) {
    throw new ScriptError('the script must end with commit or rollback');
  }
  return ops;
}

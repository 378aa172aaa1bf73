// The failpoint action grammar, after TiKV's fail-rs:
//
//   spec   := term ('->' term)*
//   term   := [P '%'] [N '*'] action
//   action := 'off' | 'return' ['(' arg ')'] | 'sleep(' ms ')' | 'panic' ['(' msg ')']
//           | 'pause' | 'print' ['(' msg ')']
//
// P (0..100, may have decimals) is the chance the term fires when the failpoint is hit; N
// is how many times it may fire in all. The terms are tried left to right and the first
// that fires is the one acted on: `1*off->panic` lets one pass through, then crashes on
// every later hit; `20%return` fails one hit in five. One difference from fail-rs: a
// term's count is only used up when it fires (fail-rs spends it on every try), so
// `50%3*return` fails exactly three hits, chosen at random.
//
// A list (a flag or the environment) is `name=spec` separated by ',' or ';' — outside
// parentheses, so `return(a,b)` keeps its comma.

export type FailpointAction =
  | { kind: 'off' }
  | { kind: 'return'; arg: string | undefined }
  | { kind: 'sleep'; ms: number }
  | { kind: 'panic'; msg: string | undefined }
  | { kind: 'pause' }
  | { kind: 'print'; msg: string | undefined };

export interface FailpointTerm {
  /** Chance in [0, 1] that the term fires when tried. */
  probability: number;
  /** How many more times it may fire; undefined: no limit. */
  remaining: number | undefined;
  action: FailpointAction;
}

export class FailpointSpecError extends Error {
  override name = 'FailpointSpecError';
}

/** The longest sleep a failpoint accepts (an hour): anything longer is a typo. */
const MAX_SLEEP_MS = 3_600_000;

const TERM = /^(?:(\d+(?:\.\d+)?)%)?(?:(\d+)\*)?([a-z]+)(?:\((.*)\))?$/s;

export function parseFailpointSpec(spec: string): FailpointTerm[] {
  const text = spec.trim();
  if (text === '') throw new FailpointSpecError('empty failpoint action');
  return splitTopLevel(text, ARROW).map((t) => parseTerm(t.trim(), text));
}

function parseTerm(term: string, whole: string): FailpointTerm {
  const m = TERM.exec(term);
  if (!m) throw new FailpointSpecError(`cannot parse failpoint action "${term}" in "${whole}"`);
  const [, pct, count, kind, rawArg] = m;
  let probability = 1;
  if (pct !== undefined) {
    const p = Number(pct);
    if (!(p >= 0 && p <= 100)) throw new FailpointSpecError(`probability ${pct}% is not 0..100`);
    probability = p / 100;
  }
  const remaining = count === undefined ? undefined : Number(count);
  if (remaining !== undefined && !Number.isSafeInteger(remaining)) {
    throw new FailpointSpecError(`count ${count} is too large`);
  }
  return { probability, remaining, action: parseAction(kind!, rawArg, term) };
}

function parseAction(kind: string, arg: string | undefined, term: string): FailpointAction {
  const noArg = () => {
    if (arg !== undefined) throw new FailpointSpecError(`"${kind}" takes no argument: "${term}"`);
  };
  switch (kind) {
    case 'off':
      noArg();
      return { kind: 'off' };
    case 'return':
      return { kind: 'return', arg };
    case 'sleep': {
      if (arg === undefined || !/^\d+$/.test(arg.trim())) {
        throw new FailpointSpecError(`sleep needs milliseconds, e.g. sleep(100): "${term}"`);
      }
      const ms = Number(arg.trim());
      if (ms > MAX_SLEEP_MS) throw new FailpointSpecError(`sleep(${ms}) is over an hour`);
      return { kind: 'sleep', ms };
    }
    case 'panic':
      return { kind: 'panic', msg: arg };
    case 'pause':
      noArg();
      return { kind: 'pause' };
    case 'print':
      return { kind: 'print', msg: arg };
    default:
      throw new FailpointSpecError(
        `unknown failpoint action "${kind}" (off, return, sleep(ms), panic, pause, print)`,
      );
  }
}

/** The canonical text of a parsed spec (what GET /failpoints shows), counts as remaining. */
export function formatFailpointSpec(terms: readonly FailpointTerm[]): string {
  return terms
    .map((t) => {
      const pct = t.probability < 1 ? `${+(t.probability * 100).toFixed(6)}%` : '';
      const cnt = t.remaining !== undefined ? `${t.remaining}*` : '';
      return pct + cnt + formatAction(t.action);
    })
    .join('->');
}

function formatAction(a: FailpointAction): string {
  switch (a.kind) {
    case 'sleep':
      return `sleep(${a.ms})`;
    case 'return':
    case 'panic':
    case 'print': {
      const arg = a.kind === 'return' ? a.arg : a.msg;
      return arg === undefined ? a.kind : `${a.kind}(${arg})`;
    }
    default:
      return a.kind;
  }
}

export interface FailpointSetting {
  name: string;
  spec: string;
}

/** `a=return;b=1*panic` or `a=return,b=sleep(10)` → settings, in order. Names are not checked here. */
export function parseFailpointList(list: string): FailpointSetting[] {
  const out: FailpointSetting[] = [];
  for (const raw of splitTopLevel(list, LIST_SEPARATOR)) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new FailpointSpecError(`expected name=action, got "${item}"`);
    const name = item.slice(0, eq).trim();
    const spec = item.slice(eq + 1).trim();
    parseFailpointSpec(spec); // fail early, with the whole list still in view
    out.push({ name, spec });
  }
  return out;
}

/** The length of the separator that starts at s[i], or 0. */
type SeparatorAt = (s: string, i: number) => number;
const ARROW: SeparatorAt = (s, i) => (s.startsWith('->', i) ? 2 : 0);
const LIST_SEPARATOR: SeparatorAt = (s, i) => (s[i] === ',' || s[i] === ';' ? 1 : 0);

/** Split at separators outside parentheses. */
function splitTopLevel(s: string, sepAt: SeparatorAt): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      const n = sepAt(s, i);
      if (n > 0) {
        parts.push(s.slice(start, i));
        start = i + n;
        i += n - 1;
      }
    }
  }
  parts.push(s.slice(start));
  return parts;
}

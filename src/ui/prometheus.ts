// A parser for the Prometheus text exposition format (what every nyx process serves on
// /metrics): one sample per line, `name{label="value",...} value`, comments start with '#'.
// https://prometheus.io/docs/instrumenting/exposition_formats/

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\d+)?$/;

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.push({ name: m[1], labels: m[2] ? parseLabels(m[2]) : {}, value: parseValue(m[3]) });
  }
  return out;
}

function parseValue(v: string): number {
  const lower = v.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  // prom-client writes an unset gauge as "Nan".
  if (lower === 'nan') return NaN;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`not a sample value: ${v}`);
  return n;
}

/** `{a="x",b="y\"z"}` -> { a: 'x', b: 'y"z' }; values may hold escaped \\, \" and \n. */
function parseLabels(block: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1;
  const end = block.length - 1;
  while (i < end) {
    while (block[i] === ',' || block[i] === ' ') i++;
    if (i >= end) break;
    const eq = block.indexOf('=', i);
    if (eq < 0 || block[eq + 1] !== '"') throw new Error(`bad labels: ${block}`);
    const name = block.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < end && block[j] !== '"'; j++) {
      if (block[j] === '\\') {
        j++;
        value += block[j] === 'n' ? '\n' : block[j];
      } else value += block[j];
    }
    if (block[j] !== '"') throw new Error(`unterminated label value: ${block}`);
    labels[name] = value;
    i = j + 1;
  }
  return labels;
}

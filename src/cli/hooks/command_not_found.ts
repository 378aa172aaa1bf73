// "Did you mean …?" for a mistyped command, printed and never asked: scripts and people
// both get one answer and a non-zero exit. @oclif/plugin-not-found was the library for
// this, but it asks an interactive yes/no question on a terminal and prints no
// suggestion at all otherwise; this hook is its non-interactive half.
import { type Hook, toConfiguredId } from '@oclif/core';

/** Edit distance (insert, delete, substitute), over whole command ids like "kv:get". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The closest command ids, best first; none when every one is far off (over half the
 * length). oclif joins the arguments into the id ("kv pt a b" arrives as "kv:pt:a:b"), so
 * each id is compared with as many leading words of what was typed as it has itself.
 */
export function suggestCommands(typed: string, ids: readonly string[], max = 3): string[] {
  const words = typed.split(':');
  const scored = ids
    .map((id) => {
      const head = words.slice(0, id.split(':').length).join(':');
      return { id, head, d: editDistance(head, id) };
    })
    .filter(({ id, head, d }) => d <= Math.max(2, Math.floor(Math.max(id.length, head.length) / 2)))
    .sort((x, y) => x.d - y.d || x.id.localeCompare(y.id));
  return scored.slice(0, max).map((s) => s.id);
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const visible = opts.config.commands.filter((c) => !c.hidden);
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)];
  const typed = toConfiguredId(opts.id, opts.config);
  const suggestions = suggestCommands(opts.id, ids).map((id) => toConfiguredId(id, opts.config));
  const topic = opts.id.split(':')[0]!;
  const help = opts.config.findTopic(topic)
    ? `${opts.config.bin} help ${topic}`
    : `${opts.config.bin} help`;
  const hint =
    suggestions.length > 0
      ? `Did you mean ${suggestions.map((s) => `"${opts.config.bin} ${s}"`).join(' or ')}? `
      : '';
  // One line on stderr, as every other nyx error (src/cli/base_command.ts).
  process.stderr.write(
    `Error: "${typed}" is not a ${opts.config.bin} command. ${hint}Run "${help}" for the list.\n`,
  );
  this.exit(127);
};

export default hook;

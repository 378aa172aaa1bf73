// Errors during a benchmark are counted by kind, never thrown: a run that hits a leader
// change or a timeout still reports what it measured. The kind is the error's class name
// and its message with numbers and addresses blanked, so "no answer in 9873 ms" from a
// thousand requests collapses into one row.

export function errorKind(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  const raw = err instanceof Error ? err.message : String(err);
  const msg = raw
    .split('\n')[0]!
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<addr>')
    .replace(/\b(localhost|\[::1\]):\d+\b/g, '<addr>')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, 120);
  return `${name}: ${msg}`;
}

export class ErrorCounter {
  private readonly kinds = new Map<string, number>();
  total = 0;

  add(err: unknown): void {
    const k = errorKind(err);
    this.kinds.set(k, (this.kinds.get(k) ?? 0) + 1);
    this.total++;
  }

  /** Counts by kind, most frequent first. */
  byKind(): Record<string, number> {
    return Object.fromEntries([...this.kinds].sort((a, b) => b[1] - a[1]));
  }
}

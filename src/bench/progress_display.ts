// Live progress of a benchmark on stderr. On a terminal: one line rewritten in place
// every second (ops/s, errors, elapsed and remaining time of the phase); otherwise (a
// pipe, a log file, CI) a plain line per second, which reads well after the fact.
import type { OpProgress } from './op_runner.js';

export function progressText(label: string, p: OpProgress): string {
  return (
    `${label ? label + ' ' : ''}[${p.phase}] ${p.elapsedSec.toFixed(0).padStart(3)}s elapsed, ` +
    `${p.remainingSec.toFixed(0).padStart(3)}s left  ` +
    `${Math.round(p.opsPerSec).toString().padStart(7)} ops/s  errors ${p.errors}`
  );
}

export class ProgressDisplay {
  private live = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    /** Say nothing (--json runs keep stderr for errors only). */
    private readonly quiet = false,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(label: string, p: OpProgress): void {
    if (this.quiet) return;
    const text = progressText(label, p);
    if (this.tty) {
      this.out.write(`\r\x1b[2K${text}`);
      this.live = true;
    } else {
      this.out.write(text + '\n');
    }
  }

  /** A message of its own (preloading, a case starting); ends a live line first. */
  say(line: string): void {
    if (this.quiet) return;
    this.done();
    this.out.write(line + '\n');
  }

  /** Ends the live line, so what follows starts on a fresh one. */
  done(): void {
    if (this.live) this.out.write('\r\x1b[2K');
    this.live = false;
  }
}

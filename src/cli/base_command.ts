// The base classes of every nyx command. BaseCommand gives --json, typed this.flags /
// this.args, output helpers, and one error contract: any failure prints ONE line,
// "Error: <what went wrong>", to stderr and exits 1 (fail(msg) does the same on purpose).
// PdCommand adds --pd (env NYX_PD) and a lazily connected PD client that is closed when
// the command ends, so the process can exit.
//
//   export default class Foo extends PdCommand<typeof Foo> {
//     static flags = { limit: Flags.integer({ default: 10 }) };
//     async run() {
//       const stores = await this.pd().getAllStores();
//       this.output(stores, () => renderTable(['id', 'address'], stores.map((s) => [s.id, s.address])));
//     }
//   }
import { Command, Errors, Interfaces } from '@oclif/core';
import { PdClient, type PdClientOptions } from '../client/pd_client.js';
import { PdError } from '../pd/errors.js';
import { PdUnavailableError } from '../client/pd_errors.js';
import { formatDuration, jsonFlag, pdFlag, timeoutFlag } from './flags.js';
import { tlsFlags, tlsFromFlags } from './tls_flags.js';
import type { TlsFiles } from '../common/tls.js';
import { renderJson } from './output.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  T['baseFlags'] & T['flags']
>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** The first PdUnavailableError in an error's cause chain: the words a person needs. */
function pdUnavailable(err: unknown): PdUnavailableError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 10; depth++) {
    if (e instanceof PdUnavailableError) return e;
    e = e.cause;
  }
  return undefined;
}

/** The one line a failure prints (after "Error: "). */
export function describeError(err: unknown): string {
  const unreachable = pdUnavailable(err);
  if (unreachable) return unreachable.message;
  if (err instanceof PdError) return `${err.message} (${err.code})`;
  const msg = err instanceof Error ? err.message : String(err);
  // oclif's parse errors spread over lines ("Parsing --x", the reason, a help hint; or a
  // list of errors): keep what says what is wrong, on one line.
  const lines = msg.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
  const list = /^The following errors? occurred:$/.test(lines[0] ?? '');
  const parts = lines.filter((l, i) => l && !(list && i === 0) && !/^See more help with/.test(l));
  if (list) return parts[0] ?? 'invalid flags';
  // "Missing 1 required arg:" is followed by "<name>  <description>" lines: the names.
  if (/^Missing \d+ required args?:$/.test(parts[0] ?? ''))
    return `${parts[0]} ${parts
      .slice(1)
      .map((p) => p.split(' ')[0])
      .join(', ')}`;
  // "Parsing --pd" + the reason reads "--pd: <reason>".
  if (/^Parsing --\S+$/.test(parts[0] ?? '') && parts.length > 1)
    parts[0] = parts[0]!.slice('Parsing '.length);
  // Join without doubling punctuation: "Missing 1 required arg:" + "key" reads
  // "Missing 1 required arg: key", and a line's own final period is dropped mid-sentence.
  let line = '';
  for (const p of parts) {
    if (!line) line = p;
    else if (/[:;,]$/.test(line)) line += ` ${p}`;
    else line = `${line.replace(/\.$/, '')}: ${p}`;
  }
  return line.replace(/(?<!\.)\.$/, '') || 'unknown error';
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = { json: jsonFlag };
  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;

  override async init(): Promise<void> {
    await super.init();
    const ctor = this.ctor as typeof BaseCommand;
    const { flags, args } = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      args: ctor.args,
      strict: ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
  }

  /** Whether --json was given. */
  protected get json(): boolean {
    return (this.flags as { json?: boolean }).json === true;
  }

  /** Prints `data` as JSON with --json, else what `human()` renders. */
  protected output(data: unknown, human: () => string): void {
    process.stdout.write((this.json ? renderJson(data) : human()) + '\n');
  }

  /** Prints one line to stderr and exits 1. */
  protected fail(msg: string): never {
    process.stderr.write(`Error: ${msg}\n`);
    this.exit(1);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    this.fail(describeError(err));
  }
}

/** The least time a call is given, however little of --timeout is left. */
const MIN_CALL_MS = 200;
/** What the command may overrun --timeout by (a last attempt ending) before it is cut. */
const GRACE_MS = 500;

export abstract class PdCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    pd: pdFlag,
    timeout: timeoutFlag,
    ...tlsFlags,
  };
  /**
   * Whether --timeout bounds the whole command (from when it starts to run, after Node
   * has loaded it), so a person waits no longer than they asked whatever goes wrong. Commands that run for a set
   * time (bench) turn it off; for them --timeout bounds each call.
   */
  protected static boundedByTimeout = true;
  private client: PdClient | undefined;
  private tlsFiles: TlsFiles | undefined | null = null;
  private guard: NodeJS.Timeout | undefined;
  private startedAt = 0;

  override async init(): Promise<void> {
    await super.init();
    this.startedAt = performance.now();
    if (!(this.ctor as typeof PdCommand).boundedByTimeout) return;
    const ms = this.timeoutMs + GRACE_MS;
    this.guard = setTimeout(() => {
      process.stderr.write(`Error: no answer within --timeout ${formatDuration(this.timeoutMs)}\n`);
      process.exit(1);
    }, ms);
    this.guard.unref();
  }

  /** --timeout in milliseconds. */
  protected get timeoutMs(): number {
    return (this.flags as { timeout: number }).timeout;
  }

  /** What is left of --timeout for a call (all of it per call when not bounded). */
  protected budgetMs(): number {
    if (!(this.ctor as typeof PdCommand).boundedByTimeout) return this.timeoutMs;
    return Math.max(MIN_CALL_MS, this.timeoutMs - (performance.now() - this.startedAt));
  }

  /** The PD client for --pd; connects on first use and gives up within --timeout. */
  protected pd(): PdClient {
    const flags = this.flags as { pd: string };
    const budget = this.budgetMs();
    // One attempt may not use the whole budget, so a PD that does not answer (rather than
    // refusing the connection) leaves time to try the next endpoint.
    const opts: PdClientOptions = { timeoutMs: budget, rpcTimeoutMs: Math.min(budget, 3000) };
    const credentials = this.tls()?.channelCredentials();
    if (credentials) opts.credentials = credentials;
    this.client ??= PdClient.connect(flags.pd, opts);
    return this.client;
  }

  /** The TLS files of --ca/--cert/--key, loaded once; undefined in plaintext. */
  protected tls(): TlsFiles | undefined {
    if (this.tlsFiles === null) {
      const f = this.flags as { ca?: string; cert?: string; key?: string };
      // A command with a --key of its own (region show: a data key) takes the TLS key from
      // NYX_KEY only.
      const ownKey = (this.ctor as { flags?: Record<string, unknown> }).flags?.key !== undefined;
      const key = ownKey ? process.env.NYX_KEY || undefined : f.key;
      try {
        this.tlsFiles = tlsFromFlags({ ca: f.ca, cert: f.cert, ...(key ? { key } : {}) });
      } catch (e) {
        this.fail((e as Error).message);
      }
    }
    return this.tlsFiles ?? undefined;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    clearTimeout(this.guard);
    this.client?.close();
    this.tlsFiles?.close();
    return super.finally(err);
  }
}

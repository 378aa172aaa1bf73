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
import { jsonFlag, pdFlag } from './flags.js';
import { renderJson } from './output.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  T['baseFlags'] & T['flags']
>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** The one line a failure prints (after "Error: "). */
export function describeError(err: unknown): string {
  if (err instanceof PdError) return `${err.message} (${err.code})`;
  const msg = err instanceof Error ? err.message : String(err);
  // oclif's parse errors spread over lines ("Parsing --x", the reason, a help hint; or a
  // list of errors): keep what says what is wrong, on one line.
  const lines = msg.split('\n').map((l) => l.trim());
  const list = /^The following errors? occurred:$/.test(lines[0] ?? '');
  const parts = lines.filter((l, i) => l && !(list && i === 0) && !/^See more help with/.test(l));
  if (list) return parts[0] ?? 'invalid flags';
  return parts.join(': ') || 'unknown error';
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

export abstract class PdCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = { ...BaseCommand.baseFlags, pd: pdFlag };
  /** CLI calls give up sooner than a store would: a person is waiting. */
  protected static pdClientOptions: PdClientOptions = { rpcTimeoutMs: 1500, timeoutMs: 1500 };
  private client: PdClient | undefined;

  /** The PD client for --pd; connects on first use. */
  protected pd(): PdClient {
    const flags = this.flags as { pd: string };
    this.client ??= PdClient.connect(flags.pd, (this.ctor as typeof PdCommand).pdClientOptions);
    return this.client;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.client?.close();
    return super.finally(err);
  }
}

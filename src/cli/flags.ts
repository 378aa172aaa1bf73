// Flag definitions every nyx command shares, so they read, check and default the same way
// everywhere: --pd (env NYX_PD), --timeout, --json, addresses, and the key encodings.
import { Flags } from '@oclif/core';
import { DEFAULT_PD_ENDPOINT } from '../client/pd_client.js';
import { checkAddress, checkPdEndpoints, type AddressUse } from './addresses.js';

export const pdFlag = Flags.string({
  description: 'PD address(es), host:port, comma-separated',
  env: 'NYX_PD',
  default: DEFAULT_PD_ENDPOINT,
  helpValue: 'host:port',
  parse: async (input) => checkPdEndpoints(input),
});

/** A host:port flag checked at parse time (port 0 allowed for listen addresses). */
export function addressFlag(opts: { description: string; default?: string; use: AddressUse }) {
  const parse = async (input: string) => checkAddress(input, opts.use);
  return opts.default === undefined
    ? Flags.string({ description: opts.description, helpValue: 'host:port', parse })
    : Flags.string({
        description: opts.description,
        helpValue: 'host:port',
        default: opts.default,
        parse,
      });
}

/** "5s", "1500ms", "2m", or a bare number of seconds -> milliseconds. */
export function parseDurationMs(input: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(input.trim());
  if (!m) throw new Error(`${JSON.stringify(input)} is not a duration (e.g. 5s, 500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000);
}

function durationFlag(opts: { description: string; defaultMs: number; allowZero: boolean }) {
  return Flags.custom<number>({
    description: opts.description,
    helpValue: 'duration',
    default: opts.defaultMs,
    defaultHelp: async () => formatDuration(opts.defaultMs),
    parse: async (input) => {
      const ms = parseDurationMs(input);
      if (ms === 0 && !opts.allowZero) throw new Error('must be more than 0');
      return ms;
    },
  })();
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** How long a command may spend reaching PD and the stores before it fails. */
export const DEFAULT_TIMEOUT_MS = 5000;
export const timeoutFlag = durationFlag({
  description: 'give up after this long (e.g. 5s, 500ms)',
  defaultMs: DEFAULT_TIMEOUT_MS,
  allowZero: false,
});

/** How long `store start` keeps trying to reach PD before it gives up; 0: forever. */
export const pdWaitFlag = durationFlag({
  description: 'how long to keep trying to reach PD at startup (0: forever)',
  defaultMs: 60_000,
  allowZero: true,
});

export const jsonFlag = Flags.boolean({
  description: 'print JSON instead of a table (for scripts)',
  default: false,
});

/** --hex / --base64: how every key and value argument is read, and how they print (encodingOf refuses both). */
export const encodingFlags = {
  hex: Flags.boolean({
    description: 'keys and values are typed and printed as hex (00ff)',
    default: false,
  }),
  base64: Flags.boolean({
    description: 'keys and values are typed and printed as base64 (AP8=)',
    default: false,
  }),
};

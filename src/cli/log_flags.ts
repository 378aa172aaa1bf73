// The logging flags of the server commands (pd start, store start, playground): where the
// log goes and in which format (src/common/logger.ts).
import { Flags } from '@oclif/core';
import { LOG_FORMATS, type LogFormat, type LogOptions } from '../common/logger.js';

export const logFlags = {
  'log-format': Flags.option({
    description: 'json lines (for tools) or text (for people)',
    options: LOG_FORMATS,
    default: 'json' as LogFormat,
    env: 'NYX_LOG_FORMAT',
  })(),
  'log-file': Flags.string({
    description: 'append the log to this file instead of stderr',
    env: 'NYX_LOG_FILE',
  }),
};

export function logOptions(flags: { 'log-format': LogFormat; 'log-file'?: string }): LogOptions {
  return { format: flags['log-format'], ...(flags['log-file'] ? { file: flags['log-file'] } : {}) };
}

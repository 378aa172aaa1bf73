// A value read byte for byte from a file or from stdin ("-"), for values that are awkward
// or impossible to type (binary data, large documents). The read stops one byte past the
// limit, so a huge file or an endless pipe is refused without being held in memory.
import fs from 'node:fs';
import { Errors } from '@oclif/core';

/** The largest value a store accepts (the SDK's default maxValueBytes). */
export const MAX_VALUE_BYTES = 8 << 20;

export async function readValueSource(source: string, maxBytes = MAX_VALUE_BYTES): Promise<Buffer> {
  const name = source === '-' ? 'stdin' : source;
  const input =
    source === '-' ? process.stdin : fs.createReadStream(source, { highWaterMark: 1 << 20 });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of input) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += b.length;
      if (size > maxBytes) {
        if (input !== process.stdin) (input as fs.ReadStream).destroy();
        throw new Errors.CLIError(`the value in ${name} is over ${maxBytes} bytes`);
      }
      chunks.push(b);
    }
  } catch (e) {
    if (e instanceof Errors.CLIError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'no such file'
        : err.code === 'EISDIR'
          ? 'is a directory'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
    throw new Errors.CLIError(`cannot read ${name} (${why})`);
  }
  return Buffer.concat(chunks, size);
}

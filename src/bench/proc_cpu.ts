// CPU time of other processes, from /proc/<pid>/stat (utime + stime, fields 14 and 15,
// in clock ticks): what the servers under test spent over a benchmark's window. On a
// machine whose cores the servers share with the load generator and with each other,
// CPU per operation is the number that stays put when wall-clock throughput does not.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSec: number | undefined;

/** sysconf(_SC_CLK_TCK); 100 on every Linux this runs on, asked once to be sure. */
function clockTicks(): number {
  if (ticksPerSec === undefined) {
    try {
      ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSec = 100;
    }
    if (!(ticksPerSec > 0)) ticksPerSec = 100;
  }
  return ticksPerSec;
}

/**
 * utime + stime of `pid` in seconds, from the text of its /proc/<pid>/stat. The command
 * name (field 2) is in parentheses and may hold spaces or parentheses itself, so fields
 * are counted from the last ')'.
 */
export function parseProcStatCpu(stat: string, ticks = clockTicks()): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // After ") ": field 3 (state) is index 0, so utime (14) is index 11, stime (15) 12.
  const f = stat.slice(close + 2).split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('bad /proc/<pid>/stat');
  return (utime + stime) / ticks;
}

/** CPU seconds of each pid so far; NaN for one that is gone or off Linux. */
export function processCpuSec(pids: readonly number[]): number[] {
  return pids.map((pid) => {
    try {
      return parseProcStatCpu(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return NaN;
    }
  });
}

/**
 * @module load/proc-stats
 * A process's resident memory and CPU use from /proc/<pid> (Linux), sampled by the orchestrator.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime: USER_HZ, 100 on every Linux ABI Node runs on. */
const USER_HZ = 100;

export interface ProcSample {
  rssMb: number;
  /** CPU seconds (user + system) used so far. */
  cpuS: number;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)", which may itself hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    if (!Number.isFinite(rssKb) || !Number.isFinite(cpuS)) return null;
    return { rssMb: rssKb / 1024, cpuS };
  } catch {
    return null; // gone (killed for a restart) or not Linux
  }
}

/** CPU percent of one core between two samples taken `seconds` apart. */
export function cpuPercent(before: ProcSample | null, after: ProcSample | null, seconds: number): number | null {
  if (!before || !after || seconds <= 0 || after.cpuS < before.cpuS) return null;
  return (100 * (after.cpuS - before.cpuS)) / seconds;
}

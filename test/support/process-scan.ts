/**
 * @module support/process-scan
 * Processes still alive whose command line names a path: what a killed server left running
 * (a trainer or an evaluator it had started under its data directory). Reads /proc, so it sees
 * processes of any parent, orphans included; elsewhere than Linux it finds none.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  command: string;
}

export function processesMentioning(text: string): ProcessInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: ProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      // A zombie has an empty command line: it is dead, only not reaped yet.
      if (!command || /^State:\s+Z/m.test(readFileSync(`/proc/${entry}/status`, 'utf8'))) continue;
    } catch {
      continue; // ended while we looked
    }
    if (command.includes(text)) found.push({ pid: Number(entry), command });
  }
  return found;
}

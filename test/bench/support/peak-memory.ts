// Peak and current resident memory of this process, from /proc/self/status (VmHWM, VmRSS) or resourceUsage().
import { readFileSync } from 'node:fs';

function statusKb(field: string): number | undefined {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Highest RSS so far, in MiB. */
export const peakRssMB = () => (statusKb('VmHWM') ?? process.resourceUsage().maxRSS) / 1024;
/** RSS now, in MiB. */
export const rssMB = () => (statusKb('VmRSS') ?? process.memoryUsage().rss / 1024) / 1024;

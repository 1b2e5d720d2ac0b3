// Peak resident set of this process, MiB. On Linux /proc/self/status VmHWM: getrusage's maxRSS is no use in a
// spawned child, as Linux carries the spawning process's RSS over into the child's maxRSS at exec (a child of a
// 400 MiB parent reports ≥ 400 MiB). Elsewhere maxRSS, with that caveat.

import fs from 'node:fs';

/** The same measure as a `node -e` script, for the empty-process baseline. */
export const PEAK_RSS_SCRIPT = `let k;try{k=Number(/^VmHWM:\\s+(\\d+)/m.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1])}catch{k=process.resourceUsage().maxRSS}process.stdout.write(String(k/1024))`;

export function peakRssMiB(): number {
  try {
    const kib = /^VmHWM:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;   // KiB
}

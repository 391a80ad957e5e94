/** One line of progress across all workers, and a printer that keeps it from flooding logs. */
import type { Progress } from './submit.js';

export function formatProgress(p: Progress): string {
  const eta = p.etaMs === undefined ? '' : p.done + p.failed < p.total ? `, ETA ${formatEta(p.etaMs)}` : '';
  return `queue: ${p.done}/${p.total} done, ${p.running} running, ${p.queued} queued, ${p.failed} failed${eta}`;
}

function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** On a terminal the line is redrawn in place; elsewhere it is printed when it changes, at most every `everyMs`. */
export function progressPrinter(stream: NodeJS.WriteStream, everyMs = 2000): (p: Progress) => void {
  let last = '';
  let at = 0;
  return (p) => {
    const line = formatProgress(p);
    if (line === last) return;
    const final = p.done + p.failed === p.total;
    if (stream.isTTY) stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else if (final || Date.now() - at >= everyMs) {
      stream.write(line + '\n');
      at = Date.now();
    } else return;
    last = line;
  };
}

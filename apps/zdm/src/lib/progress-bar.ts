import type { ProgressSnapshot } from '@zdm/migrations-core';

/** `12345` -> `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Items per second, short: `850/s`, `12.3k/s`, `1.2M/s`. */
export function formatRate(perSec: number): string {
  if (!(perSec > 0)) return '0/s';
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(1)}M/s`;
  if (perSec >= 1e4) return `${Math.round(perSec / 1e3)}k/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}k/s`;
  return `${perSec >= 10 ? Math.round(perSec) : perSec.toFixed(1)}/s`;
}

/** Seconds as `m:ss` or `h:mm:ss`; `--:--` while unknown. */
export function formatDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * One line of progress for a terminal `columns` wide:
 * `backfill [█████░░░░░]  50.0% 5,000/10,000 1.2k/s ETA 0:04`.
 */
export function renderProgressBar(label: string, p: Pick<ProgressSnapshot, 'done' | 'total' | 'ratePerSec' | 'etaSec'>, columns = 80): string {
  const total = Math.max(p.total, p.done);
  const ratio = total > 0 ? Math.min(1, p.done / total) : 1;
  const pct = `${(ratio * 100).toFixed(1)}%`.padStart(6);
  const tail = ` ${pct} ${formatCount(p.done)}/${formatCount(total)} ${formatRate(p.ratePerSec)} ETA ${formatDuration(p.etaSec)}`;
  const width = Math.max(10, Math.min(40, columns - label.length - tail.length - 4));
  const filled = Math.round(ratio * width);
  return `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${tail}`;
}

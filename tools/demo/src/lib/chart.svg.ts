import type { SecondSample, Span } from './stats';

/** Something that happened at one moment, drawn as a dashed line (a fault, the switch). */
export interface ChartMarker {
  at: string;
  label: string;
}

/** What {@link renderChart} draws. */
export interface ChartInput {
  title: string;
  subtitle: string;
  /** One sample per second of load. */
  seconds: readonly SecondSample[];
  /** Epoch ms of second 0. */
  startedAt: number;
  /**
   * The migration phases of each service, one lane each: a strip of shaded bands with the phase
   * names on top; the first lane's bands also shade the panels.
   */
  lanes: readonly { name: string; phases: readonly Span[] }[];
  markers: readonly ChartMarker[];
}

const W = 1100;
const LEFT = 70;
const RIGHT = 24;
const PLOT_W = W - LEFT - RIGHT;
const PHASE_COLORS: Record<string, string> = {
  pending: '#eceff1',
  expand: '#e3f2fd',
  'dual-write': '#fff3e0',
  backfill: '#f3e5f5',
  verify: '#e8f5e9',
  'switch-reads': '#fffde7',
  contract: '#fce4ec',
  complete: '#e0f2f1',
  'rolled-back': '#ffebee',
};

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** A round axis maximum at or above `value` (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten). */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** An axis maximum a tenth above the largest value, so a line at the maximum stays clear of the panel title. */
const headroom = (values: number[]) => niceMax(Math.max(1, ...values) * 1.1);

const fmt = (n: number) => (n >= 1000 ? `${Math.round(n / 100) / 10}k` : String(Math.round(n * 10) / 10));

interface Panel {
  title: string;
  unit: string;
  y: number;
  h: number;
  max: number;
}

/**
 * Places labels left to right in the first row where they do not overlap. Returns the row of each,
 * or -1 for a label that fits in no row (it is left out; its band and the report still show it).
 */
export function stagger(xs: readonly number[], widths: readonly number[], rows: number): number[] {
  const ends: number[] = new Array(rows).fill(-Infinity);
  return xs.map((x, i) => {
    const row = ends.findIndex((end) => x >= end + 4);
    if (row >= 0) ends[row] = x + widths[i];
    return row;
  });
}

/**
 * An SVG chart of a load run: requests per second, failed requests per second and p99 latency per
 * second, in three panels over the same time axis, with the phases as shaded bands and the faults
 * as dashed lines. Written by hand (no charting dependency); opens in any browser.
 */
export function renderChart(input: ChartInput): string {
  const seconds = input.seconds;
  const allPhases = input.lanes.flatMap((l) => l.phases);
  const spanEnd = Math.max(0, ...allPhases.map((p) => (Date.parse(p.endedAt) - input.startedAt) / 1000));
  const duration = Math.max(1, seconds.length, Math.min(spanEnd, seconds.length + 30));
  const x = (t: number) => LEFT + (Math.min(Math.max(t, 0), duration) / duration) * PLOT_W;
  const tOf = (iso: string) => (Date.parse(iso) - input.startedAt) / 1000;

  // Phase names sit in rows above the plot; under them one strip per lane, then the panels.
  const labelTop = 62;
  const labelRows = 2 + 2 * input.lanes.length;
  const phaseTop = labelTop + labelRows * 14 + 4;
  const stripH = 14;
  const panelsTop = phaseTop + input.lanes.length * stripH + 22;
  const totalFailed = seconds.reduce((s, b) => s + b.failed, 0);
  const panels: Panel[] = [
    { title: 'requests / s', unit: '', y: panelsTop, h: 150, max: headroom(seconds.map((s) => s.requests)) },
    { title: 'failed requests / s', unit: '', y: panelsTop + 180, h: 80, max: headroom(seconds.map((s) => s.failed)) },
    { title: 'p99 latency (ms, per second)', unit: 'ms', y: panelsTop + 290, h: 150, max: headroom(seconds.map((s) => s.p99)) },
  ];
  const bottom = panels[2].y + panels[2].h;
  const H = bottom + 106;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="26" font-size="18" font-weight="bold">${escapeXml(input.title)}</text>`);
  out.push(`<text x="${LEFT}" y="46" fill="#444">${escapeXml(input.subtitle)}</text>`);

  // Phase bands and their labels, lane by lane; labels of every lane share the rows, in time order.
  const visible = (p: Span) => tOf(p.endedAt) > 0 && tOf(p.startedAt) < duration;
  const phases = input.lanes
    .flatMap((lane, l) => lane.phases.filter(visible).map((p) => ({ ...p, lane: l })))
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const labelW = phases.map((p) => p.name.length * 6.6 + 6);
  // A name that would run past the right edge ends at the edge instead.
  const labelX = phases.map((p, i) => Math.min(x(tOf(p.startedAt)) + 3, W - RIGHT - labelW[i]));
  const rows = stagger(labelX, labelW, labelRows);
  input.lanes.forEach((lane, l) => out.push(`<text x="${LEFT - 6}" y="${phaseTop + l * stripH + 11}" text-anchor="end" font-size="11" fill="#37474f">${escapeXml(lane.name)}</text>`));
  phases.forEach((p, i) => {
    const x0 = x(tOf(p.startedAt));
    const x1 = Math.max(x0 + 1, x(tOf(p.endedAt)));
    const color = PHASE_COLORS[p.name.replace(/^.*:/, '')] ?? '#f5f5f5';
    const top = phaseTop + p.lane * stripH;
    // The first lane shades the panels too; the others only their strip.
    const h = p.lane === 0 ? bottom - top : stripH;
    out.push(`<rect x="${x0.toFixed(1)}" y="${top}" width="${(x1 - x0).toFixed(1)}" height="${h}" fill="${color}"/>`);
    out.push(`<line x1="${x0.toFixed(1)}" y1="${labelTop + Math.max(0, rows[i]) * 14}" x2="${x0.toFixed(1)}" y2="${p.lane === 0 ? bottom : top + stripH}" stroke="#b0bec5" stroke-width="1"/>`);
  });
  phases.forEach((p, i) => rows[i] >= 0 && out.push(`<text x="${labelX[i].toFixed(1)}" y="${labelTop + 11 + rows[i] * 14}" fill="#37474f">${escapeXml(p.name)}</text>`));

  for (const panel of panels) {
    const y = (v: number) => panel.y + panel.h - (Math.min(v, panel.max) / panel.max) * panel.h;
    out.push(`<text x="${LEFT}" y="${panel.y - 6}" font-weight="bold" fill="#263238">${escapeXml(panel.title)}</text>`);
    for (const frac of [0, 0.5, 1]) {
      const v = panel.max * frac;
      out.push(`<line x1="${LEFT}" y1="${y(v).toFixed(1)}" x2="${W - RIGHT}" y2="${y(v).toFixed(1)}" stroke="#cfd8dc" stroke-dasharray="${frac === 0 ? '' : '3 3'}"/>`);
      out.push(`<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#546e7a">${fmt(v)}${panel.unit}</text>`);
    }
  }
  // Requests per second: a line.
  const [rate, errors, p99] = panels;
  const line = (panel: Panel, values: number[], color: string) => {
    const y = (v: number) => panel.y + panel.h - (Math.min(v, panel.max) / panel.max) * panel.h;
    const points = values.map((v, t) => `${x(t + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
  };
  line(rate, seconds.map((s) => s.requests), '#1565c0');
  // Failures: red bars, or a statement that there were none.
  const barW = Math.max(1, PLOT_W / duration - 0.5);
  for (const s of seconds) {
    if (!s.failed) continue;
    const h = (Math.min(s.failed, errors.max) / errors.max) * errors.h;
    out.push(`<rect x="${x(s.t).toFixed(1)}" y="${(errors.y + errors.h - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="#c62828"/>`);
  }
  const failText = totalFailed === 0 ? 'no failed request' : `${totalFailed} failed request(s)`;
  out.push(`<text x="${W - RIGHT - 6}" y="${errors.y + 16}" text-anchor="end" font-weight="bold" fill="${totalFailed ? '#c62828' : '#2e7d32'}">${failText}</text>`);
  line(p99, seconds.map((s) => s.p99), '#6a1b9a');

  // Markers: dashed lines with staggered labels under the plot.
  const markers = input.markers.filter((m) => tOf(m.at) >= 0 && tOf(m.at) <= duration);
  const markerX = markers.map((m) => x(tOf(m.at)));
  const markerRows = stagger(markerX, markers.map((m) => m.label.length * 6.2 + 10), 5);
  markers.forEach((m, i) => {
    if (markerRows[i] < 0) return;
    const mx = markerX[i].toFixed(1);
    out.push(`<line x1="${mx}" y1="${phaseTop}" x2="${mx}" y2="${bottom + 8 + markerRows[i] * 14}" stroke="#d84315" stroke-width="1.2" stroke-dasharray="5 3"/>`);
    out.push(`<text x="${(markerX[i] + 3).toFixed(1)}" y="${bottom + 18 + markerRows[i] * 14}" fill="#d84315">${escapeXml(m.label)}</text>`);
  });

  // Time axis.
  const step = niceMax(duration / 10);
  for (let t = 0; t <= duration; t += step) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${H - 10}" text-anchor="middle" fill="#546e7a">${fmt(t)}s</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

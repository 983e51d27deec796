import { escapeXml, niceMax, renderChart, stagger } from './chart.svg';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const seconds = (failedAt: number[] = []) =>
  Array.from({ length: 60 }, (_, t) => ({ t, requests: 200, failed: failedAt.includes(t) ? 3 : 0, p99: t === 30 ? 480 : 20 }));
const phases = [
  { name: 'pending', startedAt: at(0), endedAt: at(10) },
  { name: 'dual-write', startedAt: at(10), endedAt: at(30) },
  { name: 'backfill', startedAt: at(30), endedAt: at(60) },
];

describe('renderChart', () => {
  it('draws one band per phase with its name, the markers, and says when nothing failed', () => {
    const svg = renderChart({ title: 'demo <run>', subtitle: 'a & b', seconds: seconds(), startedAt: t0, lanes: [{ name: 'customers', phases }], markers: [{ at: at(40), label: 'runner SIGKILL' }] });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const p of phases) expect(svg).toContain(`>${p.name}</text>`);
    expect(svg).toContain('>runner SIGKILL</text>');
    expect(svg).toContain('no failed request');
    expect(svg).toContain('demo &lt;run&gt;');
    expect(svg).toContain('a &amp; b');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('draws a red bar for each second with failures and counts them', () => {
    const svg = renderChart({ title: 't', subtitle: 's', seconds: seconds([5, 6]), startedAt: t0, lanes: [{ name: 'customers', phases }], markers: [] });
    expect(svg.match(/fill="#c62828"\/>/g)).toHaveLength(2);
    expect(svg).toContain('6 failed request(s)');
  });

  it('scales the latency axis to the slowest second', () => {
    const svg = renderChart({ title: 't', subtitle: 's', seconds: seconds(), startedAt: t0, lanes: [{ name: 'customers', phases }], markers: [] });
    // 480 ms plus a tenth of headroom: the axis ends at 600 ms, with 300 ms half-way.
    expect(svg).toContain('>600ms</text>');
    expect(svg).toContain('>300ms</text>');
  });

  it('draws one strip per service, named, with the phases of each', () => {
    const orders = [{ name: 'money:backfill', startedAt: at(20), endedAt: at(50) }];
    const svg = renderChart({ title: 't', subtitle: 's', seconds: seconds(), startedAt: t0, lanes: [{ name: 'customers', phases }, { name: 'orders', phases: orders }], markers: [] });
    expect(svg).toContain('>customers</text>');
    expect(svg).toContain('>orders</text>');
    expect(svg).toContain('>money:backfill</text>');
    for (const p of phases) expect(svg).toContain(`>${p.name}</text>`);
  });
});

describe('chart helpers', () => {
  it('rounds axis maxima up to a round number', () => {
    expect([0, 0.7, 1, 3, 7, 22, 27.5, 480, 1001].map(niceMax)).toEqual([1, 0.8, 1, 3, 8, 25, 30, 500, 1500]);
  });

  it('puts overlapping labels on further rows, and leaves out one that fits nowhere', () => {
    expect(stagger([0, 10, 200, 205], [50, 50, 50, 50], 3)).toEqual([0, 1, 0, 1]);
    expect(stagger([0, 10, 20], [50, 50, 50], 2)).toEqual([0, 1, -1]);
  });

  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

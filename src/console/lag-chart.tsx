/** @jsxImportSource hono/jsx */
import type { DistributorCompliance, LagPoint } from '../registry/distributors.ts';

// Lag over the last 24 hours as an SVG drawn on the server: one line per agent and feed (seconds behind when
// each report arrived, then its lag now), a red line at the deadline. No script, no library.

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };
const WINDOW_MS = 24 * 3600 * 1000;
/** Distinguishable without relying on hue alone: each series also has its own dash pattern. */
const SERIES = [
  ['#1f4e99', ''],
  ['#2b7a3d', '6 3'],
  ['#7a3d99', '2 3'],
  ['#99621f', '8 3 2 3'],
  ['#1f7a7a', '1 2'],
] as const;

export function LagChart({
  title,
  labels,
  history,
  rows,
  deadlineSeconds,
  now,
}: {
  title: string;
  /** The time axis' two ends, in the page's language. */
  labels: { start: string; now: string };
  history: LagPoint[];
  rows: DistributorCompliance[];
  deadlineSeconds: number;
  now: number;
}) {
  const start = now - WINDOW_MS;
  const key = (p: { tokenId: number; agentId: string; feed: string }) =>
    `${p.tokenId}|${p.agentId}|${p.feed}`;
  const names = new Map(rows.map((r) => [key(r), `${r.name}${r.agentId ? `/${r.agentId}` : ''} ${r.feed}`]));
  const series = new Map<string, Array<[number, number]>>();
  for (const p of history) {
    const list = series.get(key(p)) ?? [];
    list.push([Date.parse(p.reportedAt), p.lagSeconds]);
    series.set(key(p), list);
  }
  for (const r of rows) series.get(key(r))?.push([now, r.lagSeconds]);
  const peak = Math.max(deadlineSeconds * 1.25, ...[...series.values()].flat().map(([, lag]) => lag));
  const x = (t: number) =>
    PAD.left + ((Math.max(t, start) - start) / WINDOW_MS) * (WIDTH - PAD.left - PAD.right);
  const y = (lag: number) => HEIGHT - PAD.bottom - (lag / peak) * (HEIGHT - PAD.top - PAD.bottom);
  const deadlineY = y(deadlineSeconds);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="lag-chart-title"
        xmlns="http://www.w3.org/2000/svg"
        id="lag-chart"
      >
        <title id="lag-chart-title">{title}</title>
        <line
          x1={PAD.left}
          y1={HEIGHT - PAD.bottom}
          x2={WIDTH - PAD.right}
          y2={HEIGHT - PAD.bottom}
          stroke="#333"
        />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={HEIGHT - PAD.bottom} stroke="#333" />
        <text x={PAD.left - 6} y={PAD.top + 10} text-anchor="end" font-size="11" fill="#222">
          {Math.round(peak)} s
        </text>
        <text x={PAD.left - 6} y={HEIGHT - PAD.bottom} text-anchor="end" font-size="11" fill="#222">
          0
        </text>
        <text x={PAD.left} y={HEIGHT - 8} font-size="11" fill="#222">
          {labels.start}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} text-anchor="end" font-size="11" fill="#222">
          {labels.now}
        </text>
        <line
          class="deadline"
          x1={PAD.left}
          y1={deadlineY}
          x2={WIDTH - PAD.right}
          y2={deadlineY}
          stroke="#b00020"
          stroke-width="2"
        />
        <text x={WIDTH - PAD.right - 4} y={deadlineY - 4} text-anchor="end" font-size="11" fill="#b00020">
          {deadlineSeconds} s
        </text>
        {[...series.entries()].map(([k, points], i) => {
          const [color, dash] = SERIES[i % SERIES.length] as (typeof SERIES)[number];
          return (
            <polyline
              class="series"
              data-series={names.get(k) ?? k}
              fill="none"
              stroke={color}
              stroke-width="2"
              stroke-dasharray={dash || undefined}
              points={points.map(([t, lag]) => `${x(t).toFixed(1)},${y(lag).toFixed(1)}`).join(' ')}
            />
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {[...series.keys()].map((k, i) => {
            const [color] = SERIES[i % SERIES.length] as (typeof SERIES)[number];
            return (
              <li>
                <svg width="24" height="8" aria-hidden="true" viewBox="0 0 24 8">
                  <line x1="0" y1="4" x2="24" y2="4" stroke={color} stroke-width="3" />
                </svg>{' '}
                {names.get(k) ?? k}
              </li>
            );
          })}
        </ul>
      </figcaption>
    </figure>
  );
}

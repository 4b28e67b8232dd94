/**
 * The page-count chart of one device as inline SVG, rendered in Node by Apache ECharts'
 * server-side SVG renderer (no DOM, no browser build). ECharts is imported on first use
 * only, so nothing but `rds report` pays for loading it. No outside text goes into the
 * chart: series names are fixed, axis labels are numbers and UTC dates; the device's name
 * is written by the page, escaped, above the chart.
 */
import type { CounterPoint } from './usage.js';

export const CHART_SIZE = { width: 760, height: 260 } as const;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The ECharts option for one device: total, mono and (when the device reports it) colour over time. */
export function chartOption(points: readonly CounterPoint[]) {
  const series = [
    { name: 'total', data: points.map((p) => [p.at, p.total]) },
    { name: 'mono', data: points.filter((p) => p.mono !== null).map((p) => [p.at, p.mono]) },
    { name: 'colour', data: points.filter((p) => p.colour !== null).map((p) => [p.at, p.colour]) },
  ].filter((s) => s.data.length > 0);
  return {
    animation: false,
    color: ['#1f3a93', '#555555', '#c0392b'],
    grid: { left: 80, right: 24, top: 36, bottom: 40 },
    legend: { top: 4, data: series.map((s) => s.name) },
    xAxis: { type: 'time', minInterval: 86_400_000, axisLabel: { formatter: (v: number) => day(v), hideOverlap: true } },
    yAxis: { type: 'value', scale: true, name: 'pages' },
    series: series.map((s) => ({ ...s, type: 'line', showSymbol: points.length <= 31, symbolSize: 4 })),
  };
}

/** One `<svg>` element: the device's counters over time. */
export async function pageCountChart(points: readonly CounterPoint[]): Promise<string> {
  const echarts = await import('echarts');
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...CHART_SIZE });
  try {
    chart.setOption(chartOption(points) as Parameters<typeof chart.setOption>[0]);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

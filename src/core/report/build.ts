/** The fleet report as one self-contained HTML document (docs/report.md). */
import { pageCountChart } from './chart.js';
import type { ReportData } from './data.js';
import { page } from './html.js';
import { faultsHtml, fleetHtml, header, rolloutHtml, silentHtml, suppliesHtml, usageHtml } from './sections.js';

/** The page from the data; `chart` renders one device's SVG (ECharts by default). */
export async function buildReport(d: ReportData, chart = pageCountChart): Promise<string> {
  const svgs: string[] = [];
  for (const dev of d.devices) svgs.push(await chart(dev.points));
  const body = [
    header(d),
    '<main>',
    fleetHtml(d.fleet),
    rolloutHtml(d.rollout),
    silentHtml(d.silent, d.silentAfterMs),
    faultsHtml(d.faults),
    suppliesHtml(d.supplies),
    usageHtml(d.devices, svgs),
    '</main>',
  ].join('\n');
  return page(`rds fleet report: ${d.hostId}`, body);
}

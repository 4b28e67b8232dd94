/**
 * The page's building blocks: tables whose every cell is outside text escaped by the one
 * HTML escape (text/html.ts), the page shell with its inline style (print-friendly) and its
 * one small inline script (filter and sort, optional: the tables are complete without it).
 * The Content-Security-Policy allows no request at all and only that script, by its hash:
 * a second line of defence, the escaping is the first.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from '../text/html.js';

/** A table cell: outside text (escaped here) and an optional class from this module's own vocabulary. */
export interface Cell {
  text: string;
  cls?: 'fail' | 'ok' | 'num' | 'sev-critical' | 'sev-warning' | 'sev-info' | 'muted';
  /** a value to sort by instead of the text (a number or an ISO time) */
  sort?: string | number;
}

export const c = (text: string | number | null | undefined, cls?: Cell['cls'], sort?: string | number): Cell => ({
  text: text === null || text === undefined ? '-' : String(text),
  ...(cls ? { cls } : {}),
  ...(sort !== undefined ? { sort } : {}),
});

export function table(id: string, headers: readonly string[], rows: readonly (readonly Cell[])[], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row) => {
      const cells = row.map((cell) => {
        const cls = cell.cls ? ` class="${cell.cls}"` : '';
        const sort = cell.sort !== undefined ? ` data-sort="${escapeHtml(String(cell.sort))}"` : '';
        return `<td${cls}${sort}>${escapeHtml(cell.text)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table id="${id}" class="sortable">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

/** 2026-12-07T12:05:09.123Z → 2026-12-07 12:05 UTC (the report is read in other time zones: UTC, said). */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** 2 d 3 h, 5 h 10 min, 12 min */
export function fmtAge(ms: number): string {
  const min = Math.floor(ms / 60_000);
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${min % 60} min`;
  return `${min} min`;
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #1f3a93}
h3{font-size:15px;margin:18px 0 4px}.meta,.muted,.empty{color:#555}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#eef1f8;cursor:default}
#rollout-states,table[id^=wave-]{width:auto;min-width:22em}tbody tr:nth-child(even){background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.fail{color:#b00020;font-weight:600}td.ok{color:#1b7f3b}
td.sev-critical{color:#b00020;font-weight:600}td.sev-warning{color:#a15c00}
.summary{font-weight:600}.chart svg{max-width:100%;height:auto}
.controls{margin:6px 0}.controls input{font:inherit;padding:2px 6px;width:20em}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
@media print{body{margin:0;max-width:none;font-size:11px}.controls{display:none}
section,.device{break-inside:avoid}h2{break-after:avoid}a{color:inherit;text-decoration:none}}
`;

/** Filter the fleet table by a text, sort any table by a click on its head; progressive, never needed. */
const SCRIPT = `
(function(){
var q=document.getElementById('fleet-filter');
if(q){q.closest('.controls').hidden=false;q.addEventListener('input',function(){
var t=q.value.toLowerCase();var rows=document.querySelectorAll('#fleet tbody tr');
for(var i=0;i<rows.length;i++){rows[i].hidden=t!==''&&rows[i].textContent.toLowerCase().indexOf(t)<0;}});}
var ths=document.querySelectorAll('table.sortable th');
for(var i=0;i<ths.length;i++){ths[i].addEventListener('click',function(){
var th=this,tb=th.closest('table').tBodies[0],col=th.cellIndex,asc=!th.classList.contains('sorted-asc');
var key=function(r){var d=r.cells[col];var v=d.getAttribute('data-sort');return v===null?d.textContent:v;};
var rows=Array.prototype.slice.call(tb.rows);
rows.sort(function(a,b){var x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y);
var r=(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x&&String(ny)===y)?nx-ny:x.localeCompare(y);return asc?r:-r;});
for(var j=0;j<rows.length;j++)tb.appendChild(rows[j]);
var all=th.parentNode.children;for(var k=0;k<all.length;k++)all[k].classList.remove('sorted-asc','sorted-desc');
th.classList.add(asc?'sorted-asc':'sorted-desc');});}
})();
`;

export const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

/** The whole document: every part of `body` already escaped by its builder. */
export function page(title: string, body: string): string {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'; img-src data:; form-action 'none'; base-uri 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

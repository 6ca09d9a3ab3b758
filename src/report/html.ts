// The self-contained HTML page: inline SVG figures grouped by section, the summary tables, and
// nothing loaded from anywhere else (it opens offline and can be mailed as one file).
import type { Figure } from './figure.js';

export interface RenderedFigure extends Figure {
  svg: string;
}

export interface Table {
  caption: string;
  head: string[];
  rows: (string | number | null)[][];
}

export interface PageContent {
  title: string;
  subtitle: string;
  tables: Table[];
  figures: RenderedFigure[];
  /** Sections that could not be drawn and why (e.g. "no eval/ results: run daqyolo evaluate"). */
  notes: { section: string; text: string }[];
  /** Answers to the study's questions, shown first (the seed plan's report). */
  findings?: { question: string; answer: string; verdict: string; link: { href: string; text: string } | null }[];
  /** `report --watch`: the page reloads itself every so many seconds. */
  refreshSeconds?: number;
}

export const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1500px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 36px; }
.subtitle { color: #555; margin-top: 0; }
nav a { margin-right: 14px; font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0 20px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding-bottom: 4px; }
figure.plot { margin: 16px 0 28px; overflow-x: auto; }
figure.plot h3 { font-size: 15px; margin: 0 0 4px; }
figcaption { font-size: 12px; color: #555; max-width: 1000px; margin-top: 4px; }
.finding { margin: 10px 0; } .finding .q { font-weight: bold; } .verdict { font-size: 11px; padding: 1px 6px; border-radius: 3px; background: #e8f0fa; margin-left: 6px; }
.verdict.inconclusive, .verdict.missing { background: #fff0d9; }
.note { color: #8a5a00; background: #fff7e6; padding: 6px 10px; border-left: 3px solid #f0a020; font-size: 13px; }
`;

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

function tableHtml(t: Table): string {
  const cell = (v: string | number | null) => (typeof v === 'number' ? `<td class="num">${v}</td>` : `<td>${escapeHtml(v ?? '–')}</td>`);
  return (
    `<table><caption>${escapeHtml(t.caption)}</caption><thead><tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody></table>`
  );
}

function findingsHtml(items: NonNullable<PageContent['findings']>): string {
  const li = items.map(
    (f) =>
      `<li class="finding" data-finding="${escapeHtml(f.verdict)}"><span class="q">${escapeHtml(f.question)}</span>` +
      `<span class="verdict ${escapeHtml(f.verdict)}">${escapeHtml(f.verdict)}</span><br>${escapeHtml(f.answer)}` +
      `${f.link ? ` <a href="${escapeHtml(f.link.href)}">(plot: ${escapeHtml(f.link.text)})</a>` : ''}</li>`,
  );
  return `<section id="findings"><h2>Findings</h2><ol>${li.join('\n')}</ol></section>`;
}

export function pageHtml(c: PageContent): string {
  const sections = [...new Set([...c.figures.map((f) => f.section), ...c.notes.map((n) => n.section)])];
  const body = sections.map((s) => {
    const figs = c.figures
      .filter((f) => f.section === s)
      .map(
        (f) =>
          `<figure class="plot" id="${escapeHtml(f.id)}" data-plot="${escapeHtml(f.id)}"><h3>${escapeHtml(f.title)}</h3>${f.svg}<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`,
      );
    const notes = c.notes.filter((n) => n.section === s).map((n) => `<p class="note">${escapeHtml(n.text)}</p>`);
    return `<section id="${slug(s)}"><h2>${escapeHtml(s)}</h2>\n${[...notes, ...figs].join('\n')}</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${c.refreshSeconds ? `<meta http-equiv="refresh" content="${c.refreshSeconds}">` : ''}
<title>${escapeHtml(c.title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(c.title)}</h1><p class="subtitle">${escapeHtml(c.subtitle)}</p>
<nav>${[...(c.findings ? ['Findings'] : []), 'Summary', ...sections].map((s) => `<a href="#${slug(s)}">${escapeHtml(s)}</a>`).join('')}</nav>
${c.findings ? findingsHtml(c.findings) : ''}
<section id="summary"><h2>Summary</h2>${c.tables.map(tableHtml).join('\n')}</section>
${body.join('\n')}
</body></html>
`;
}

import MarkdownIt from 'markdown-it';
import { Html, html } from '../html.js';
import { layout, type PageContext } from './layout.js';

// The report is written once, as Markdown (incidents/report.ts), and this page shows that very text
// rendered, so the download and the view never disagree. Raw HTML in it is never markup (html:
// false escapes it), and links are only what markdown-it's validateLink lets through (no
// javascript:, vbscript:, file: or data: other than images).
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

/** The file name a report is downloaded as. */
export function reportFileName(id: number): string {
  return `incident-${id}-report.md`;
}

/** /incidents/:id/report: the report as a page, readable on a phone (wide tables scroll within themselves), with its download. */
export function reportPage(ctx: PageContext, id: number, title: string, report: string): string {
  const body = html`<p><a href="/incidents/${id}">← Incident #${id}</a></p>
<p class="actions"><a class="link-button" href="/incidents/${id}/report.md" download="${reportFileName(id)}">Download Markdown</a></p>
<article class="report">${new Html(
    markdown
      .render(report)
      .replace(/<table>/g, '<div class="table-scroll"><table>')
      .replace(/<\/table>/g, '</table></div>'),
  )}</article>`;
  return layout(`Report: ${title}`, ctx, body);
}

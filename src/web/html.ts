import { hasBidiControls, showBidiControls } from '../well-formed.js';

// Server-side rendering with escaping by default: every value interpolated into `html` is escaped
// unless it is itself the output of `html`. Labels and annotations come from whoever can reach
// Alertmanager, so nothing reaches a page unescaped by accident.

/** Markup that is already safe: built by `html`, whose interpolations were escaped. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/**
 * Text with bidirectional controls (U+202E and the rest), which would display it reversed ("evil"
 * as "live") and run on into what follows: each control is written visibly ("[U+202E]"), so it
 * acts on nothing, and in a text node the value is isolated in a <bdi> as well, so that no other
 * direction in it can reorder the page around it.
 */
function escapeText(text: string, inTag: boolean): string {
  if (!hasBidiControls(text)) return escapeHtml(text);
  const shown = escapeHtml(showBidiControls(text));
  return inTag ? shown : `<bdi>${shown}</bdi>`;
}

function render(value: unknown, inTag: boolean): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v) => render(v, inTag)).join('');
  // Numbers and booleans: what reaches a page from the views, never an object.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return escapeText(typeof value === 'string' ? value : String(value), inTag);
}

/** The tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested `html` and arrays of it pass through. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    // Inside a tag (an attribute value) when the last "<" of the template so far comes after its last ">".
    out += render(v, out.lastIndexOf('<') > out.lastIndexOf('>')) + strings[i + 1]!;
  });
  return new Html(out);
}

/** A URL that may be a link: http or https only, so `javascript:`, `data:` and the like never become one. */
export function safeHref(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** A link when the URL is http(s), otherwise the text alone (the URL shown as text, inert). */
export function link(url: string | undefined | null, text: string | Html): Html {
  const href = safeHref(url);
  return href ? html`<a href="${href}" rel="noopener noreferrer">${text}</a>` : html`${text}`;
}

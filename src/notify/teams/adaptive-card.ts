import { SEVERITIES, severityRank, type Severity } from '../../classify/severity.js';
import type { IncidentWithDetails } from '../../incidents/model.js';
import { describePage, type TimeFormat } from '../../incidents/timeline-text.js';
import type { DigestItem } from '../../outbox/channel.js';
import type { IncidentPage } from '../../outbox/page.js';
import { facts, SEVERITY_STYLE } from '../render.js';

/**
 * The Adaptive Card version the cards declare. Teams renders 1.5 on the desktop, but its mobile
 * apps and the Workflows "post card" action are documented up to 1.4; nothing here needs more.
 */
export const CARD_VERSION = '1.4';

/** Each severity as a card shows it: the container's style and the headline's colour (Adaptive Card names). */
export const CARD_STYLE: Record<Severity, { container: string; color: string }> = {
  critical: { container: 'attention', color: 'Attention' },
  high: { container: 'warning', color: 'Warning' },
  medium: { container: 'accent', color: 'Accent' },
  low: { container: 'good', color: 'Good' },
};

/**
 * Escapes text for the Markdown subset Teams reads in TextBlocks and FactSet values: a backslash
 * before every character that could start markup, `<` made harmless (no `<at>` mention can be
 * forged), and `{{` broken, which Adaptive Cards would read as a DATE()/TIME() function.
 */
export function teamsEscape(text: string): string {
  return text
    .replace(/[\\`*_~[\]()#>+\-!|]/g, (c) => `\\${c}`)
    .replace(/</g, '‹')
    .replace(/\{\{/g, '{\u200b{')
    .replace(/^(\s*)(\d+)\./gm, '$1$2\\.');
}

/**
 * Text from alerts or people as plain text: a RichTextBlock's TextRun is never read as Markdown,
 * which is the safe place for a title, a summary or a description whatever they hold.
 */
function plain(text: string, extra: Record<string, unknown> = {}): object {
  return { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: text.replace(/\{\{/g, '{\u200b{'), ...extra }] };
}

/** Who a page mentions in Teams: their addresses there (a UPN or Entra user ID), as `<at>` text and entities. */
function mentionsOf(page: IncidentPage): { text: string; entities: object[] } {
  const entities = page.mentions.map((id) => ({ type: 'mention', text: `<at>${id}</at>`, mentioned: { id, name: id } }));
  return { text: page.mentions.map((id) => `<at>${id}</at>`).join(' '), entities };
}

/** The card for one page: severity in colour, title, what happened, the facts, the deadline, the first response, the links. */
export function incidentCard(
  i: IncidentWithDetails,
  page: IncidentPage,
  opts: { url: string | undefined; steps: string[]; time: TimeFormat },
): object {
  const style = SEVERITY_STYLE[i.severity];
  const f = facts(i, opts.time);
  const fact = (title: string, value: string) => ({ title, value: teamsEscape(value) });
  const body: object[] = [
    {
      type: 'Container',
      style: CARD_STYLE[i.severity].container,
      bleed: true,
      items: [
        plain(`${style.emoji} ${style.label}: ${i.title}`, { size: 'Large', weight: 'Bolder', color: CARD_STYLE[i.severity].color }),
        plain(describePage(page, opts.time), { isSubtle: true }),
      ],
    },
    {
      type: 'FactSet',
      facts: [
        fact('Incident', `#${i.id}`),
        fact('Status', f.status),
        fact('Severity', f.severity),
        ...(i.status === 'open' ? [fact('Respond by', f.respondBy)] : []),
        fact('Alerts', f.alerts),
        ...(f.labels.length ? [fact('Labels', f.labels.join(', '))] : []),
      ],
    },
  ];
  if (f.summary) body.push(plain(f.summary, { weight: 'Bolder' }));
  if (f.description) body.push(plain(f.description));
  if (opts.steps.length) {
    body.push({ type: 'TextBlock', text: 'First response', weight: 'Bolder', wrap: true, spacing: 'Medium' });
    opts.steps.forEach((s, n) => body.push(plain(`${n + 1}. ${s}`)));
  }
  const mentions = mentionsOf(page);
  if (mentions.entities.length && page.event !== 'acknowledged' && page.event !== 'resolved')
    body.push({ type: 'TextBlock', text: `Paging ${mentions.text}`, wrap: true });
  const actions: object[] = [];
  if (opts.url) actions.push({ type: 'Action.OpenUrl', title: 'Open the incident', url: opts.url });
  if (f.runbook) actions.push({ type: 'Action.OpenUrl', title: 'Runbook', url: f.runbook });
  return card(body, actions, mentions.entities);
}

/** One card for many pages to one room, when sending each would overrun the Workflow's rate. */
export function digestCard(items: DigestItem[], urlOf: (id: number | null) => string | undefined): object {
  const counts = SEVERITIES.map((s) => [s, items.filter((i) => i.incident.severity === s).length] as const).filter(([, n]) => n > 0);
  const worst = counts[0]![0];
  const sorted = [...items].sort(
    (a, b) => severityRank(a.incident.severity) - severityRank(b.incident.severity) || a.incident.id! - b.incident.id!,
  );
  const headline = `${items.length} incident updates: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}`;
  const body: object[] = [
    {
      type: 'Container',
      style: CARD_STYLE[worst].container,
      bleed: true,
      items: [plain(headline, { size: 'Large', weight: 'Bolder', color: CARD_STYLE[worst].color })],
    },
    { type: 'TextBlock', text: 'Folded into one card to stay within the Workflow’s rate limit.', isSubtle: true, wrap: true },
    ...sorted.slice(0, 30).map(({ incident, page }) => {
      const url = urlOf(incident.id);
      const line = `${SEVERITY_STYLE[incident.severity].emoji} #${incident.id} ${incident.title} (${page.event.replace('_', ' ')})`;
      return url ? plain(line, { selectAction: { type: 'Action.OpenUrl', url } }) : plain(line);
    }),
  ];
  if (sorted.length > 30) body.push({ type: 'TextBlock', text: `…and ${sorted.length - 30} more`, wrap: true });
  return card(body, [], []);
}

function card(body: object[], actions: object[], entities: object[]): object {
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: CARD_VERSION,
    body,
    ...(actions.length ? { actions } : {}),
    msteams: { width: 'Full', ...(entities.length ? { entities } : {}) },
  };
}

/** What a Workflows webhook takes: a message with the card as its one attachment. */
export function workflowsMessage(content: object): object {
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}

import type { IncidentWithDetails } from '../../incidents/model.js';
import { describePage, type TimeFormat } from '../../incidents/timeline-text.js';
import type { IncidentPage } from '../../outbox/page.js';
import { facts, SEVERITY_STYLE, subject } from '../render.js';

/**
 * Escapes text from alerts or people for Mattermost's Markdown: a backslash before every character
 * that could start markup, and a word joiner after each `@`, so that no label can mention
 * @channel, @all, @here or anyone else (Mattermost would notify them).
 */
export function mattermostText(text: string): string {
  return text.replace(/[\\`*_~[\]()#>+\-!|<]/g, (c) => `\\${c}`).replace(/@/g, '@\u2060');
}

const noMention = (text: string) => text.replace(/@/g, '@\u2060');

/** A URL for `[text](url)`: brackets, parentheses and spaces percent-encoded so that it cannot end the link early. */
function linkUrl(url: string): string {
  return url.replace(/[()[\]<>\s]/g, (c) => encodeURIComponent(c));
}

/** How each paged person is mentioned: @username (their `addresses: { mattermost: … }`). */
export function mentions(page: IncidentPage): string {
  return page.mentions.map((m) => `@${m.replace(/[^A-Za-z0-9._-]/g, '')}`).join(' ');
}

/**
 * The announcement of an incident, with the content of Slack's where Mattermost has it: a message
 * attachment (Mattermost reads Slack's format) with the severity's colour, the title linked to the
 * incident's page, the facts as fields, the annotations, the runbook and the first response.
 * Slack's buttons need an interactive integration of their own: the link to the page stands in.
 */
export function announcement(
  i: IncidentWithDetails,
  page: IncidentPage,
  opts: { url: string | undefined; steps: string[]; time: TimeFormat },
): { message: string; attachments: object[] } {
  const style = SEVERITY_STYLE[i.severity];
  const f = facts(i, opts.time);
  const text = [
    f.labels.length ? f.labels.map((l) => `\`${l.replace(/`/g, "'").replace(/@/g, '@\u2060')}\``).join(' ') : '',
    f.summary && `**${mattermostText(f.summary)}**`,
    f.description && mattermostText(f.description),
    f.runbook ? `[Runbook](${linkUrl(f.runbook)})` : '',
    opts.steps.length ? `**First response**\n${opts.steps.map((s, n) => `${n + 1}. ${mattermostText(s)}`).join('\n')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const who = page.event === 'opened' || page.event === 'escalated' ? mentions(page) : '';
  return {
    message: `${who ? `${who} ` : ''}${mattermostText(subject(i))}: ${mattermostText(describePage(page, opts.time))}`,
    attachments: [
      {
        // Plain text where Mattermost shows it (notifications, the title): no Markdown to escape, but no mention either.
        fallback: noMention(subject(i)),
        color: style.color,
        title: noMention(`${style.emoji} ${style.label}: ${i.title}`).slice(0, 250),
        ...(opts.url ? { title_link: opts.url } : {}),
        fields: [
          { short: true, title: 'Incident', value: opts.url ? `[#${i.id}](${linkUrl(opts.url)})` : `#${i.id}` },
          { short: true, title: 'Status', value: mattermostText(f.status) },
          { short: true, title: 'Severity', value: mattermostText(f.severity) },
          ...(i.status === 'open' ? [{ short: true, title: 'Respond by', value: mattermostText(f.respondBy) }] : []),
          { short: true, title: 'Alerts', value: f.alerts },
        ],
        text: text.slice(0, 7000),
      },
    ],
  };
}

/** A thread reply: what happened, mentioning whom it pages. */
export function threadReply(page: IncidentPage, time: TimeFormat): string {
  const who = mentions(page);
  return `${who ? `${who} ` : ''}${mattermostText(describePage(page, time))}`;
}

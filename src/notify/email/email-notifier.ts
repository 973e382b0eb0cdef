import nodemailer, { type Transporter } from 'nodemailer';
import { NotifyError, type Delivery, type NoticePage, type Notifier, type PageContext } from '../../outbox/channel.js';
import type { ChecklistConfig } from '../../incidents/checklist.js';
import { describePage, readableUtc, zonedTime } from '../../incidents/timeline-text.js';
import { showBidiControls } from '../../well-formed.js';
import { facts, firstSteps, htmlEscape, incidentUrl, SEVERITY_STYLE, subject } from '../render.js';

/** Settings of the e-mail channel, from the environment. */
export interface EmailSettings {
  /** SMTP_URL, e.g. smtp://user:pass@host:587. */
  url: string | undefined;
  /** EMAIL_FROM. */
  from: string | undefined;
  publicUrl?: string | undefined;
  timeoutMs?: number | undefined;
  /** The checklists in force, whose first section is the page's first response; the plan's without it. */
  checklists?: (() => ChecklistConfig) | undefined;
  /** The IANA time zone of a team (its rotation's), for times in words; UTC when undefined. */
  timeZoneOf?: ((team: string | null) => string | undefined) | undefined;
}

/**
 * Pages by e-mail through nodemailer. Its timeouts (minutes by default) are seconds here, so a
 * stuck server cannot hold a page. Every message about an incident carries In-Reply-To and
 * References to the incident's first message, and its own Message-ID derives from the outbox id,
 * so the messages of an incident land in one thread and a resent page keeps its identity.
 */
export class EmailNotifier implements Notifier {
  readonly channel = 'email' as const;
  readonly notConfigured: string | undefined;
  private readonly transport: Transporter | undefined;
  private readonly domain: string;
  /** Aborted at shutdown: every sendMail listens to it (nodemailer's `signal`, since 10.5). */
  private readonly closing = new AbortController();

  constructor(private readonly settings: EmailSettings) {
    this.notConfigured = !settings.url
      ? 'e-mail is not configured (SMTP_URL unset)'
      : !settings.from
        ? 'e-mail is not configured (EMAIL_FROM unset)'
        : undefined;
    const t = settings.timeoutMs ?? 10_000;
    // Pooled: a new SMTP connection (greeting, EHLO, maybe TLS) is slow even to a local server
    // (docs/performance.md#page-latency). Idle connections close after socketTimeout.
    this.transport = this.notConfigured
      ? undefined
      : nodemailer.createTransport({
          url: settings.url,
          pool: true,
          maxConnections: 3,
          connectionTimeout: t,
          greetingTimeout: t,
          socketTimeout: t,
        });
    this.domain = (settings.from ?? 'alert-triage@localhost').split('@')[1]?.replace(/>$/, '') || 'localhost';
  }

  /** The Message-ID of the incident's thread root and of one page. */
  threadId(incidentId: number): string {
    return `<incident-${incidentId}@${this.domain}>`;
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    if (!this.transport) throw new NotifyError(this.notConfigured!, false);
    const first = page.event === 'opened';
    const messageId = first ? this.threadId(incident.id!) : `<page-${page.id}.incident-${incident.id}@${this.domain}>`;
    // Times in the team's zone (its rotation's), so that the e-mail reads as the team's clock.
    const zone = this.settings.timeZoneOf?.(incident.team);
    const time = zone ? zonedTime(zone) : readableUtc;
    const f = facts(incident, time);
    const style = SEVERITY_STYLE[incident.severity];
    const link = incidentUrl(this.settings.publicUrl, incident.id);
    const steps = incident.status === 'resolved' ? [] : firstSteps(this.settings.checklists, incident);
    const text = [
      describePage(page, time),
      '',
      subject(incident),
      `Status: ${f.status}`,
      `Severity: ${f.severity}`,
      `Respond by: ${f.respondBy}`,
      `Alerts: ${f.alerts}`,
      f.labels.length ? `Labels: ${f.labels.join(', ')}` : '',
      f.summary && `Summary: ${f.summary}`,
      f.description && `Description: ${f.description}`,
      f.runbook ? `Runbook: ${f.runbook}` : '',
      steps.length ? `\nFirst response:\n${steps.map((s, n) => `${n + 1}. ${s}`).join('\n')}` : '',
      link ? `\nIncident page: ${link}` : '',
    ]
      .filter((l) => l !== '')
      .join('\n');
    const row = (k: string, v: string) => `<tr><th align="left">${htmlEscape(k)}</th><td>${htmlEscape(v)}</td></tr>`;
    const html = `<div style="border-left:6px solid ${style.color};padding-left:12px">
<p><strong>${htmlEscape(describePage(page, time))}</strong></p>
<h2>${htmlEscape(`${style.label}: ${incident.title}`)}</h2>
<table>${row('Incident', String(incident.id))}${row('Status', f.status)}${row('Severity', f.severity)}${row('Respond by', f.respondBy)}${row('Alerts', f.alerts)}${f.labels.length ? row('Labels', f.labels.join(', ')) : ''}</table>
${f.summary ? `<p><strong>${htmlEscape(f.summary)}</strong></p>` : ''}${f.description ? `<p>${htmlEscape(f.description)}</p>` : ''}
${f.runbook ? `<p><a href="${htmlEscape(f.runbook)}">Runbook</a></p>` : ''}
${steps.length ? `<h3>First response</h3><ol>${steps.map((s) => `<li>${htmlEscape(s)}</li>`).join('')}</ol>` : ''}
${link ? `<p><a href="${htmlEscape(link)}">Open the incident</a></p>` : ''}
</div>`;
    return this.mail({
      to: page.recipients,
      // Bidirectional controls from labels are shown, not obeyed: nothing displays reversed.
      subject: showBidiControls(subject(incident)),
      messageId,
      ...(first ? {} : { inReplyTo: this.threadId(incident.id!), references: [this.threadId(incident.id!)] }),
      headers: { 'X-Alert-Triage-Incident': String(incident.id), 'X-Alert-Triage-Page': String(page.id) },
      text: showBidiControls(text),
      html: showBidiControls(html),
    });
  }

  /** A notice (a handoff, a swap or cover request): its title as the subject, its lines as text, escaped in the HTML part. */
  async sendNotice(page: NoticePage): Promise<Delivery> {
    if (!this.transport) throw new NotifyError(this.notConfigured!, false);
    const { title, lines, url } = page.notice;
    const text = [...lines, ...(url ? ['', url] : [])].join('\n');
    const html = `<p><strong>${htmlEscape(title)}</strong></p>
${lines.map((l) => `<p>${htmlEscape(l)}</p>`).join('\n')}
${url ? `<p><a href="${htmlEscape(url)}">Open the on-call page</a></p>` : ''}`;
    return this.mail({
      to: page.recipients,
      subject: showBidiControls(title),
      // Stable per notice: a resend after an unknown outcome keeps its identity.
      messageId: `<notice-${page.id}@${this.domain}>`,
      headers: { 'X-Alert-Triage-Notice': page.notice.kind, 'X-Alert-Triage-Page': String(page.id) },
      text: showBidiControls(text),
      html: showBidiControls(html),
    });
  }

  /** Sends one message, its failure as a NotifyError that says whether to retry. */
  private async mail(m: {
    to: string[];
    subject: string;
    messageId: string;
    inReplyTo?: string;
    references?: string[];
    headers: Record<string, string>;
    text: string;
    html: string;
  }): Promise<Delivery> {
    const messageId = m.messageId;
    try {
      const info = await this.transport!.sendMail({ from: this.settings.from, ...m, signal: this.closing.signal });
      const rejected = ((info.rejected ?? []) as (string | { address: string })[]).map((r) => (typeof r === 'string' ? r : r.address));
      return { externalRef: messageId, ...(rejected.length ? { rejected } : {}) };
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; message: string; rejected?: unknown[] };
      // Aborted (shutdown), or the connection dropped mid-transaction: the server may have the message.
      // SMTP has no lookup, so a retry may deliver it twice; the stable Message-ID lets clients fold the copies.
      if (e.code === 'EABORT') throw new NotifyError('SMTP: aborted at shutdown', true, { maybeDelivered: true });
      // SMTP 4xx is "try again later"; 5xx is final; no answer at all is worth retrying.
      if (typeof e.responseCode === 'number') throw new NotifyError(`SMTP ${e.responseCode}: ${e.message}`, e.responseCode < 500);
      if (e.code === 'EAUTH' || e.code === 'EENVELOPE' || e.code === 'EMESSAGE')
        throw new NotifyError(`SMTP ${e.code}: ${e.message}`, false);
      throw new NotifyError(`SMTP unreachable: ${e.code ?? ''} ${e.message}`.trim(), true, {
        maybeDelivered: e.code !== 'ECONNECTION' && e.code !== 'EDNS',
      });
    }
  }

  abort(): void {
    this.closing.abort(new Error('shutting down'));
  }

  close(): void {
    this.transport?.close();
  }
}

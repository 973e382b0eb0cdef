import nodemailer, { type Transporter } from 'nodemailer';
import { checklistStatus } from '../../incidents/checklist.js';
import { STATE_LABEL, STATUS_LABEL, STATUS_EMAIL_CHANNEL, type StatusPageConfig } from '../../incidents/status-page.js';
import { SYSTEM, type EntryOf } from '../../incidents/timeline.js';
import { NotifyError, type Delivery, type Notifier, type NoticePage, type PageContext, type Pace } from '../../outbox/channel.js';
import { showBidiControls } from '../../well-formed.js';
import { htmlEscape } from '../render.js';

/** Settings of the subscribers' e-mail, from the environment (docs/status-page.md). */
export interface StatusEmailSettings {
  /** SMTP_URL. */
  url: string | undefined;
  /** STATUS_EMAIL_FROM, else EMAIL_FROM. */
  from: string | undefined;
  /** STATUS_PUBLIC_URL, else PUBLIC_URL: links in the e-mails (the page, unsubscribe). */
  publicUrl: string | undefined;
  timeoutMs?: number | undefined;
  /** At most one e-mail per interval to the whole list, across replicas (STATUS_EMAIL_INTERVAL, default 200 ms). */
  intervalMs?: number | undefined;
  /** The status page's config in force: the components' names, the title and the "Users notified" step. */
  statusPage: () => StatusPageConfig;
  /** The service's clock, for the time of the checklist tick. */
  now?: (() => number) | undefined;
}

/** A subscriber as the notifier reads them at send time: the address and the links' secrets are never copied into the outbox. */
export interface SubscriberRecord {
  email: string;
  unsubscribeToken: string;
  confirmedAt: number | null;
  /** The secret of the confirmation link; null once confirmed. */
  confirmToken: string | null;
  /** Only these components' updates; null: every update. */
  components: string[] | null;
}

/** What the notifier reads of a subscriber at send time. */
export interface SubscriberLookup {
  subscriber?(id: number): Promise<SubscriberRecord | undefined>;
}

/** The transport both the confirmation e-mails and the updates go through: pooled, with timeouts in seconds. */
function transport(settings: StatusEmailSettings): Transporter | undefined {
  if (!settings.url || !settings.from) return undefined;
  const t = settings.timeoutMs ?? 10_000;
  return nodemailer.createTransport({
    url: settings.url,
    pool: true,
    maxConnections: 2,
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: t,
  });
}

const notConfiguredOf = (s: StatusEmailSettings) =>
  !s.url
    ? 'status page e-mail is not configured (SMTP_URL unset)'
    : !s.from
      ? 'status page e-mail is not configured (STATUS_EMAIL_FROM and EMAIL_FROM unset)'
      : undefined;

const base = (s: StatusEmailSettings) => (s.publicUrl ?? 'http://localhost').replace(/\/+$/, '');
const domainOf = (from: string | undefined) => (from ?? 'alert-triage@localhost').split('@')[1]?.replace(/>$/, '') || 'localhost';

/** The failure of one SMTP call, as the outbox reads it (the e-mail channel's rules). */
function smtpError(err: unknown): NotifyError {
  const e = err as { responseCode?: number; code?: string; message: string };
  if (e.code === 'EABORT') return new NotifyError('SMTP: aborted at shutdown', true, { maybeDelivered: true });
  if (typeof e.responseCode === 'number') return new NotifyError(`SMTP ${e.responseCode}: ${e.message}`, e.responseCode < 500);
  if (e.code === 'EAUTH' || e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return new NotifyError(`SMTP ${e.code}: ${e.message}`, false);
  return new NotifyError(`SMTP unreachable: ${e.code ?? ''} ${e.message}`.trim(), true, {
    maybeDelivered: e.code !== 'ECONNECTION' && e.code !== 'EDNS',
  });
}

/**
 * Public updates e-mailed to the status page's subscribers, one outbox page each, and the
 * confirmation e-mails of new subscriptions, one outbox notice each (docs/status-page.md).
 * Every update carries RFC 8058's one-click unsubscribe (List-Unsubscribe with an https URL and
 * List-Unsubscribe-Post), and every message a Message-ID made from the outbox id, so a resend after
 * an unknown outcome keeps its identity. The whole list is paced as one target across replicas, the
 * confirmations as another. The text is only what the person wrote for the public: no label,
 * annotation, note or name.
 */
export class StatusEmailNotifier implements Notifier {
  readonly channel = STATUS_EMAIL_CHANNEL;
  readonly notConfigured: string | undefined;
  readonly quiet = true;
  readonly pace: Pace;
  private readonly transport: Transporter | undefined;
  private readonly closing = new AbortController();

  constructor(
    private readonly settings: StatusEmailSettings,
    private readonly lookup: SubscriberLookup,
  ) {
    this.notConfigured =
      notConfiguredOf(settings) ?? (lookup.subscriber ? undefined : 'status page e-mail: the store keeps no subscribers');
    this.transport = this.notConfigured ? undefined : transport(settings);
    // Never folded into a digest: each subscriber gets each update.
    this.pace = { intervalMs: settings.intervalMs ?? 200, foldAfterMs: Number.MAX_SAFE_INTEGER };
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    if (!this.transport) throw new NotifyError(this.notConfigured!, false);
    const update = page.cause?.kind === 'status_update' ? page.cause : undefined;
    if (!update || page.subscriber === undefined) throw new NotifyError('not a status page update to a subscriber', false);
    const who = await this.lookup.subscriber!(page.subscriber);
    // Unsubscribed (or deleted by an admin) after the update was posted: nothing is sent.
    if (!who || who.confirmedAt === null) throw new NotifyError('the subscriber unsubscribed before it was sent', false);
    const config = this.settings.statusPage();
    const messageId = `<status-${page.id}.incident-${incident.id}@${domainOf(this.settings.from)}>`;
    const unsubscribe = `${base(this.settings)}/status/unsubscribe/${who.unsubscribeToken}`;
    const message = statusUpdateMessage(update, config, `${base(this.settings)}/status`, unsubscribe);
    await this.mail(this.transport, who.email, messageId, message, {
      'List-Unsubscribe': `<${unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `${config.title.replace(/[<>"\r\n]/g, '')} <status.${domainOf(this.settings.from)}>`,
      Precedence: 'bulk',
    });
    // The closing update reached a subscriber: the plan's "Users notified", ticked once.
    const step = config.notifiedStep;
    const ticked = checklistStatus(incident.timeline).get(step)?.state === 'done';
    const entries =
      update.state === 'resolved' && !ticked
        ? [
            {
              at: Date.now(),
              actor: SYSTEM,
              kind: 'checklist' as const,
              step,
              state: 'done' as const,
              note: 'the closing update was e-mailed to subscribers',
            },
          ]
        : [];
    return { externalRef: messageId, ...(entries.length ? { entries } : {}) };
  }

  /**
   * The confirmation e-mail of a subscription (the only notice this channel takes). The address, the
   * link's secret and the components are read from the subscriber's row now: a subscription
   * confirmed, swept or deleted since it was queued gets nothing. The link is never in an error or
   * a log line: only in the message handed to the SMTP server.
   */
  async sendNotice(page: NoticePage): Promise<Delivery> {
    if (!this.transport) throw new NotifyError(this.notConfigured!, false);
    if (page.notice.kind !== 'status_confirmation' || page.subscriber === undefined)
      throw new NotifyError('not a confirmation e-mail to a subscriber', false);
    const who = await this.lookup.subscriber!(page.subscriber);
    if (!who || who.confirmedAt !== null || !who.confirmToken)
      throw new NotifyError('the subscription was confirmed or deleted before its confirmation e-mail was sent', false);
    const config = this.settings.statusPage();
    const names = new Map(config.components.map((c) => [c.id, c.name]));
    const messageId = `<status-confirm-${page.id}@${domainOf(this.settings.from)}>`;
    const message = confirmationMessage(
      config.title,
      `${base(this.settings)}/status/confirm/${who.confirmToken}`,
      (who.components ?? []).map((c) => names.get(c) ?? c),
    );
    await this.mail(this.transport, who.email, messageId, message);
    return { externalRef: messageId };
  }

  /** Hands one message to the SMTP server, marked as sent by a machine; an SMTP failure says whether it is worth retrying. */
  private async mail(
    transport: Transporter,
    to: string,
    messageId: string,
    message: { subject: string; text: string; html: string },
    headers: Record<string, string> = {},
  ): Promise<void> {
    try {
      await transport.sendMail({
        from: this.settings.from,
        to,
        subject: message.subject,
        messageId,
        headers: { ...headers, 'Auto-Submitted': 'auto-generated' },
        text: message.text,
        html: message.html,
        signal: this.closing.signal,
      });
    } catch (err) {
      throw smtpError(err);
    }
  }

  abort(): void {
    this.closing.abort(new Error('shutting down'));
  }

  close(): void {
    this.transport?.close();
  }
}

/** The e-mail of one public update: subject, text and HTML, each made only of what is public. */
export function statusUpdateMessage(
  update: Pick<EntryOf<'status_update'>, 'state' | 'title' | 'message' | 'components' | 'at'>,
  config: StatusPageConfig,
  pageUrl: string,
  unsubscribeUrl: string,
) {
  const names = new Map(config.components.map((c) => [c.id, c.name]));
  const parts = update.components.map((c) => `${names.get(c.id) ?? c.id}: ${STATUS_LABEL[c.status]}`);
  const when = `${new Date(update.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const subject = showBidiControls(`[${config.title}] ${STATE_LABEL[update.state]}: ${update.title}`).replace(/[\r\n]+/g, ' ');
  const text = showBidiControls(
    [
      `${STATE_LABEL[update.state]}: ${update.title}`,
      '',
      update.message,
      '',
      parts.length ? `Affected: ${parts.join(', ')}` : '',
      `Posted ${when}`,
      '',
      `Status page: ${pageUrl}`,
      `Unsubscribe: ${unsubscribeUrl}`,
    ]
      .filter((l, i, all) => l !== '' || all[i - 1] !== '')
      .join('\n'),
  );
  const html = showBidiControls(`<h2>${htmlEscape(`${STATE_LABEL[update.state]}: ${update.title}`)}</h2>
${update.message
  .split(/\n{2,}/)
  .map((p) => `<p>${htmlEscape(p).replace(/\n/g, '<br>')}</p>`)
  .join('\n')}
${parts.length ? `<p>Affected: ${htmlEscape(parts.join(', '))}</p>` : ''}
<p>Posted ${htmlEscape(when)}</p>
<p><a href="${htmlEscape(pageUrl)}">Status page</a> · <a href="${htmlEscape(unsubscribeUrl)}">Unsubscribe</a></p>`);
  return { subject, text, html };
}

/** The confirmation e-mail of a subscription: subject, text and HTML. */
export function confirmationMessage(title: string, confirmUrl: string, components: readonly string[]) {
  const what = components.length ? `updates about ${components.join(', ')}` : 'every update';
  const after =
    'If it was not you, ignore this e-mail: nothing is sent without the confirmation, and the request is deleted within a week.';
  return {
    subject: showBidiControls(`[${title}] Confirm your subscription`).replace(/[\r\n]+/g, ' '),
    text: showBidiControls(
      `Someone, probably you, asked to receive ${what} of ${title} at this address.\n\nConfirm: ${confirmUrl}\n\n${after}`,
    ),
    html: showBidiControls(
      `<p>Someone, probably you, asked to receive ${htmlEscape(what)} of ${htmlEscape(title)} at this address.</p><p><a href="${htmlEscape(confirmUrl)}">Confirm the subscription</a></p><p>${after}</p>`,
    ),
  };
}

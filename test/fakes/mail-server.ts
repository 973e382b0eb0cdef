import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../helpers.js';

/** A message the SMTP server accepted, parsed. */
export interface ReceivedMail {
  rcptTo: string[];
  mail: ParsedMail;
  /** performance.now() when the message was accepted, for the latency benchmark. */
  at: number;
}

/**
 * A real SMTP server (the smtp-server package) in the test process. It keeps what it receives
 * and can refuse recipients or whole messages with a 4xx or 5xx on demand.
 */
export class MailServer {
  readonly received: ReceivedMail[] = [];
  /** Recipients refused with 550. */
  readonly refuse = new Set<string>();
  /** Answers for the next DATA commands, e.g. 451 or 554. */
  readonly failData: number[] = [];
  /** Messages refused by a failData answer, parsed all the same: what a retry must repeat. */
  readonly refused: ReceivedMail[] = [];
  private server: SMTPServer | undefined;
  port = 0;
  /** Client connections open now. */
  open = 0;

  /** Listens on `port` (a free one unless told); `onMail` hears each message accepted. */
  async start(port?: number, onMail?: (m: ReceivedMail) => void): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // No reverse DNS of 127.0.0.1 on each connection: this machine has no resolver to ask.
      disableReverseLookup: true,
      onConnect: (_session, cb) => {
        this.open++;
        cb();
      },
      onClose: () => {
        this.open--;
      },
      onRcptTo: (address, _session, cb) => {
        if (this.refuse.has(address.address)) return cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        cb();
      },
      onData: (stream, session, cb) => {
        const code = this.failData.shift();
        if (code) {
          simpleParser(stream).then(
            (mail) => {
              this.refused.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), mail, at: performance.now() });
              cb(Object.assign(new Error(code >= 500 ? 'message rejected' : 'try again later'), { responseCode: code }));
            },
            (err: Error) => cb(err),
          );
          return;
        }
        simpleParser(stream).then(
          (mail) => {
            const received = { rcptTo: session.envelope.rcptTo.map((r) => r.address), mail, at: performance.now() };
            this.received.push(received);
            onMail?.(received);
            cb();
          },
          (err: Error) => cb(err),
        );
      },
    });
    this.port = port ?? (await freePort());
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

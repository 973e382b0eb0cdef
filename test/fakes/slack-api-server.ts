import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One call the Slack-compatible server received. */
export interface SlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, unknown>;
}

/**
 * A Slack-Web-API-compatible HTTP server on loopback, for the real @slack/web-api client
 * (point slackApiUrl / SLACK_API_URL at `url`). It records every call and answers auth.test
 * for `validToken`; anything else gets Slack's invalid_auth.
 */
export class SlackApiServer {
  readonly calls: SlackCall[] = [];
  private server: Server | undefined;
  url = '';

  constructor(readonly validToken: string) {}

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
      const args = await readArgs(req);
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? (args['token'] as string | undefined);
      this.calls.push({ method, token, args });
      res.setHeader('content-type', 'application/json');
      if (token !== this.validToken) return res.end(JSON.stringify({ ok: false, error: 'invalid_auth' }));
      if (method === 'auth.test') {
        return res.end(JSON.stringify({ ok: true, url: 'https://acme.slack.com/', team: 'Acme', user: 'alert-triage', team_id: 'T1', user_id: 'U1', bot_id: 'B1' }));
      }
      res.end(JSON.stringify({ ok: false, error: 'unknown_method' }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function readArgs(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (!body) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(body));
}

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { alert, API_TOKEN, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';

/** A browser-like client for app.inject: keeps cookies, reads the CSRF token from the last form, posts forms. */
export class WebClient {
  readonly cookies = new Map<string, string>();
  csrf = '';
  constructor(
    readonly app: FastifyInstance,
    readonly headers: Record<string, string> = {},
  ) {}

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token) this.csrf = token;
    return res;
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: 'GET', url, headers: { ...this.headers, ...this.cookieHeader(), ...headers } }));
  }

  /** Posts a form as a browser does, with the CSRF token of the last page unless `fields._csrf` says otherwise. */
  async post(
    url: string,
    fields: Record<string, string | undefined>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries({ _csrf: this.csrf, ...fields })) if (v !== undefined) form.set(k, v);
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        payload: form.toString(),
        headers: { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader(), ...headers },
      }),
    );
  }

  /** Signs in with the built-in form. */
  async signIn(name = 'Carol Diaz', token = API_TOKEN): Promise<LightMyRequestResponse> {
    await this.get('/sign-in');
    return this.post('/sign-in', { name, token, next: '/incidents' });
  }
}

/** An app with three incidents: 1 DDoSAttack (critical), 2 ServiceDown, 3 SlowAPI. */
export async function seeded(t: Parameters<typeof makeApp>[0], config: Parameters<typeof makeApp>[1] = {}) {
  const ctx = await makeApp(t, config);
  for (const name of ['DDoSAttack', 'ServiceDown', 'SlowAPI']) await postWebhook(ctx.app, payload(uniqueGroup(), [alert(name)]));
  return ctx;
}

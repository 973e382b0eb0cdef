import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

// A real OpenID provider for the tests: oidc-provider (the certified server library), in a child
// process on a free port, with one client and a few users. Its development sign-in form takes any
// user id listed below (the password is not checked); the ID token carries the e-mail, whether it
// is verified, the name and the groups. It advertises an end_session_endpoint (RP-initiated logout,
// with its "Do you want to sign-out" prompt), as Keycloak, Okta and Entra ID do.

/** A user of the fake provider. */
export interface FakeUser {
  id: string;
  email: string;
  name: string;
  emailVerified?: boolean;
  groups?: string[];
}

export interface FakeProviderConfig {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Where RP-initiated logout may send the browser back to (the service's PUBLIC_URL/sign-in). */
  postLogoutRedirectUri?: string;
  users: FakeUser[];
}

/** The provider process: its issuer URL, its output, and how to stop it. */
export interface RunningProvider {
  issuer: string;
  output: () => string;
  stop: () => Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts the provider in a child process and waits until it listens. */
export async function startOidcProvider(config: FakeProviderConfig): Promise<RunningProvider> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF], {
    env: { PATH: process.env['PATH'] ?? '', FAKE_OIDC: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const check = setInterval(() => {
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(check);
        resolve(m[1]!);
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`the OpenID provider exited:\n${out}`));
      }
    }, 25);
  });
  return {
    issuer,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(config: FakeProviderConfig): Promise<void> {
  // The package ships no types; the little used here is typed by hand.
  const specifier = 'oidc-provider';
  const { default: Provider } = (await import(specifier)) as {
    default: new (issuer: string, configuration: object) => { callback(): (req: unknown, res: unknown) => void };
  };
  const users = new Map(config.users.map((u) => [u.id, u]));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: config.clientId,
        client_secret: config.clientSecret,
        redirect_uris: [config.redirectUri],
        post_logout_redirect_uris: config.postLogoutRedirectUri ? [config.postLogoutRedirectUri] : [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    cookies: { keys: ['fake-oidc-cookie-key'] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // The claims of the scopes asked for go into the ID token itself, as Google's and Entra's do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx: unknown, id: string) => {
      const u = users.get(id);
      if (!u) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          email: u.email,
          email_verified: u.emailVerified ?? true,
          name: u.name,
          groups: u.groups ?? [],
        }),
      };
    },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
}

if (process.argv[1] === SELF) {
  const raw = process.env['FAKE_OIDC'];
  if (!raw) throw new Error('FAKE_OIDC (the provider config as JSON) is not set');
  await main(JSON.parse(raw) as FakeProviderConfig);
}

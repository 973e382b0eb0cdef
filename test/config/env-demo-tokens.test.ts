import t from 'tap';
import { isPlaceholderToken, readEnv } from '../../src/config/env.js';

t.test("production refuses the demo stack's placeholder tokens, as it refuses missing ones", async (t) => {
  const demo = { WEBHOOK_TOKEN: 'demo-webhook-token-CHANGE-ME', API_TOKEN: 'demo-api-token-CHANGE-ME' };
  t.equal(readEnv(demo).production, false, 'outside production the demo runs');
  t.throws(() => readEnv({ ...demo, NODE_ENV: 'production' }), {
    name: 'ConfigError',
    message: /^WEBHOOK_TOKEN and API_TOKEN: the demo stack's placeholder/,
  });
  t.throws(() => readEnv({ ...demo, API_TOKEN: 'a-real-one', NODE_ENV: 'production' }), { message: /^WEBHOOK_TOKEN: / });
  t.throws(() => readEnv({ NODE_ENV: 'production' }), { message: /required when NODE_ENV=production/ }, 'missing tokens stay refused');
  t.ok(
    readEnv({ NODE_ENV: 'production', WEBHOOK_TOKEN: 'w', API_TOKEN: 'a', SESSION_SECRET: 's'.repeat(32) }).production,
    'real tokens start',
  );
  const ha = {
    NODE_ENV: 'production',
    WEBHOOK_TOKEN: 'w',
    API_TOKEN: 'a',
    SESSION_SECRET: 'demo-session-secret-shared-by-the-replicas-CHANGE-ME',
  };
  t.throws(
    () => readEnv(ha),
    { name: 'ConfigError', message: /^SESSION_SECRET: .*placeholder/ },
    "the ha profile's demo session secret is refused in production",
  );
  t.equal(readEnv({ ...ha, NODE_ENV: 'development' }).sessionSecret, ha.SESSION_SECRET, 'and taken outside it');
  t.ok(isPlaceholderToken('demo-api-token-CHANGE-ME'));
  t.notOk(isPlaceholderToken('s3cr3t'));
  t.notOk(isPlaceholderToken(undefined));
});

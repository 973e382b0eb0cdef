import t from 'tap';
import { makeApp } from '../../helpers.js';
import { WebClient } from '../web-client.js';

t.test('the stylesheet and the script: served to anyone, cached briefly', async (t) => {
  const { app } = await makeApp(t);
  const c = new WebClient(app);
  const js = await c.get('/static/app.js');
  t.equal(js.statusCode, 200, 'no sign-in needed');
  t.match(js.headers['content-type'], /javascript/);
  const css = await c.get('/static/app.css');
  t.match(css.headers['content-type'], /text\/css/);
  t.equal(css.headers['cache-control'], 'public, max-age=300');
});

t.test('/favicon.ico: an icon for anyone, not a 404 (nor a redirect to sign in)', async (t) => {
  const { app } = await makeApp(t);
  const res = await new WebClient(app).get('/favicon.ico');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'image/x-icon');
  const ico = res.rawPayload;
  t.same([...ico.subarray(0, 6)], [0, 0, 1, 0, 1, 0], 'an ICO header with one image');
  t.same([...ico.subarray(22, 30)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'holding a PNG');
  t.match((await new WebClient(app).get('/sign-in')).body, '<link rel="icon" href="/favicon.ico">');
});

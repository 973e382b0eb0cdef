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

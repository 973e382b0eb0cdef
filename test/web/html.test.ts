import t from 'tap';
import { escapeHtml, html, link, safeHref } from '../../src/web/html.js';

t.test('every interpolation is escaped; nested html and arrays pass through once', async (t) => {
  const evil = `<script>alert(1)</script>"'\`&`;
  t.equal(
    html`<p title="${evil}">${evil}</p>`.value,
    '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;</p>',
  );
  t.equal(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
  t.equal(html`${null}${undefined}${false}${0}`.value, '0');
  t.equal(escapeHtml('a&b'), 'a&amp;b');
});

t.test('only http and https become links', async (t) => {
  for (const bad of [
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    '//evil.example',
    'not a url',
    '',
    undefined,
  ]) {
    t.equal(safeHref(bad), undefined, String(bad));
    t.notMatch(link(bad, 'x').value, /<a /, `${String(bad)} is text`);
  }
  t.equal(safeHref('https://runbooks.example.com/a?b=1&c="2"'), 'https://runbooks.example.com/a?b=1&c=%222%22');
  t.equal(
    link('http://prometheus:9090/graph?g0.expr=up&x=<y>', 'graph').value,
    '<a href="http://prometheus:9090/graph?g0.expr=up&amp;x=%3Cy%3E" rel="noopener noreferrer">graph</a>',
  );
});

t.test('bidirectional controls are shown, not obeyed, and isolated in text', async (t) => {
  const name = 'host\u202Egnp.exe';
  t.equal(
    html`<p>${name} ok</p>`.value,
    '<p><bdi>host[U+202E]gnp.exe</bdi> ok</p>',
    'shown, not obeyed, and isolated: nothing runs on into " ok"',
  );
  t.equal(html`<p title="${name}">x</p>`.value, '<p title="host[U+202E]gnp.exe">x</p>', 'no element can isolate an attribute');
  t.equal(html`<p>${'plain'}</p>`.value, '<p>plain</p>', 'text without them is as it was');
  t.equal(html`<p>${'<\u202E>'}</p>`.value, '<p><bdi>&lt;[U+202E]&gt;</bdi></p>', 'and still escaped');
});

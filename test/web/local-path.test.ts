import t from 'tap';
import { localPath } from '../../src/web/local-path.js';

/** A string for a test's message: TAP reads U+2028 and the like as line ends. */
const show = (s: string | undefined) =>
  s === undefined ? 'undefined' : s.replace(/[^\x21-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

t.test('a local path passes as it is; another host, whitespace or a control character gives /incidents', async (t) => {
  for (const ok of ['/incidents', '/incidents/1?x=1#notes', '/a%20b', '/%2F%2Fx', "/~user/(x)!*'"]) t.equal(localPath(ok), ok, show(ok));
  for (const bad of [
    undefined,
    '',
    'incidents',
    '//evil.example',
    '/\\evil.example',
    'https://evil.example/',
    '/\t/evil.example',
    '/ x',
    '/\n',
    '/\u0000',
    '/\u001b',
    '/\u007f',
    '/\u009b',
    '/\u00a0',
    '/\u2028',
    '/\ufeff',
  ]) {
    t.equal(localPath(bad), '/incidents', show(bad));
  }
});

t.test('characters outside printable ASCII are percent-encoded as UTF-8, so the Location header can carry them', async (t) => {
  t.equal(localPath('/ā'), '/%C4%81');
  t.equal(localPath('/é'), '/%C3%A9', 'Latin-1 too: Node would send it as one byte, which is not UTF-8');
  t.equal(localPath('/😀?q=ü'), '/%F0%9F%98%80?q=%C3%BC');
  t.equal(localPath('/\u200b'), '/%E2%80%8B', 'a zero-width space (not \\s) is encoded, not followed as is');
  t.equal(localPath('/\ud800x'), '/%EF%BF%BDx', 'a lone surrogate does not throw');
  for (const next of ['/ā', '/\u202e/evil', '/日本/%C4%81'])
    t.match(localPath(next), /^\/[\x21-\x7e]*$/, `${show(next)}: printable ASCII only`);
});

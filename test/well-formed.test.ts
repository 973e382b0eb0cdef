import t from 'tap';
import { REPLACEMENT, wellFormedDeep, wellFormedJson, wellFormedText } from '../src/well-formed.js';

const LONE = '\uD800';

t.test('wellFormedText replaces each NUL and lone surrogate, and returns well-formed text as it is', async (t) => {
  const table: [string, string][] = [
    ['', ''],
    ['plain', 'plain'],
    ['a\0b', `a${REPLACEMENT}b`],
    [`x${LONE}y`, `x${REPLACEMENT}y`],
    ['\uDC00', REPLACEMENT],
    // A pair is one character, kept.
    ['\uD83D\uDE00', '\uD83D\uDE00'],
    [`\0${LONE}\0`, REPLACEMENT.repeat(3)],
  ];
  for (const [input, want] of table) t.equal(wellFormedText(input), want, JSON.stringify(input));
});

t.test('wellFormedDeep mends strings at any depth, keys included, and copies only what changes', async (t) => {
  const clean = { a: ['x', 1, null, true, { b: 'y' }], c: 2 };
  t.equal(wellFormedDeep(clean), clean, 'nothing to mend: the same object');
  const list = ['a', 1, 'b'];
  t.equal(wellFormedDeep(list), list, 'an array with nothing to mend: the same array');

  const table: [unknown, unknown][] = [
    ['a\0', `a${REPLACEMENT}`],
    [
      ['ok', 'b\0', 3],
      ['ok', `b${REPLACEMENT}`, 3],
    ],
    [{ k: `v${LONE}` }, { k: `v${REPLACEMENT}` }],
    [{ [`k${LONE}`]: 'v' }, { [`k${REPLACEMENT}`]: 'v' }],
    [
      { first: 1, second: 'x', bad: ['\0'], last: 'z' },
      { first: 1, second: 'x', bad: [REPLACEMENT], last: 'z' },
    ],
    [[[['deep\0']]], [[[`deep${REPLACEMENT}`]]]],
    [42, 42],
    [null, null],
    [undefined, undefined],
  ];
  for (const [input, want] of table) t.same(wellFormedDeep(input), want, JSON.stringify(input));

  const input = { keep: { untouched: 'x' }, mend: 'a\0' };
  const out = wellFormedDeep(input);
  t.not(out, input, 'a copy when something changed');
  t.equal(out.keep, input.keep, 'the parts that did not change are shared');
  t.equal(input.mend, 'a\0', 'the input is left as it was');

  const nullProto = Object.assign(Object.create(null) as Record<string, string>, { a: '\0' });
  const mended = wellFormedDeep(nullProto);
  t.equal(Object.getPrototypeOf(mended), null, 'a null-prototype record stays one');
  t.equal(mended['a'], REPLACEMENT);

  const date = new Date(0);
  const buffer = Buffer.from('\0');
  t.equal(wellFormedDeep(date), date, 'a Date is not text');
  t.equal(wellFormedDeep(buffer), buffer, 'a Buffer is not text');
});

t.test('wellFormedJson writes NUL and lone surrogates as U+FFFD, and leaves escaped backslashes alone', async (t) => {
  const table: [unknown, string][] = [
    [{ a: 'b' }, '{"a":"b"}'],
    [{ a: '\0' }, '{"a":"\\ufffd"}'],
    [{ a: LONE }, '{"a":"\\ufffd"}'],
    // The text "\u0000" (a backslash, then u0000) is not a NUL.
    [{ a: '\\u0000' }, '{"a":"\\\\u0000"}'],
  ];
  for (const [input, want] of table) t.equal(wellFormedJson(input), want, JSON.stringify(input));
});

// Issue 19, point 5: a body over the limit is answered with 413, and the client reads that answer
// instead of a reset connection, also while it is still sending (a real socket that keeps writing
// past the limit), on the webhook and on the pages' forms.
import { connect } from 'node:net';
import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { drainLimit } from '../../src/http/refused-body.js';
import { makeApp, shippedConfigText, WEBHOOK_TOKEN } from '../helpers.js';

const LIMIT = 64 * 1024;

interface Sent {
  answer: string;
  /** How the connection ended for the client, when not cleanly: ECONNRESET, EPIPE. */
  error?: string;
  sent: number;
}

/**
 * Sends `head`, then the body in 16 KiB chunks, `total` bytes in all, without stopping when the
 * answer comes. `readAfterWriting`: like many simple HTTP clients, it reads nothing until it has
 * sent the whole body; otherwise it reads as the answer arrives.
 */
function sendOversized(port: number, head: string, total: number, chunked: boolean, readAfterWriting: boolean): Promise<Sent> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let error: string | undefined;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve({ answer, sent, ...(error ? { error } : {}) });
    };
    if (readAfterWriting) socket.pause();
    // Done once the whole body went out and the answer is complete (its JSON or HTML ends it).
    const check = () => sent >= total && /\r\n\r\n[\s\S]*(\}|<\/html>)$/.test(answer) && done();
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      check();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      done();
    });
    socket.on('close', done);
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const frame = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
    const pump = () => {
      while (!socket.destroyed && sent < total) {
        sent += chunk.length;
        if (!socket.write(frame)) return void socket.once('drain', pump);
      }
      if (socket.destroyed) return;
      if (chunked) socket.write('0\r\n\r\n');
      socket.resume();
      check();
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.setTimeout(30_000, () => {
      error = 'timeout';
      done();
    });
  });
}

t.test('over the limit while still sending: 413 on the webhook and the pages, never a reset', async (t) => {
  const config = parseConfig(shippedConfigText().replace('bodyLimit: 10MiB', `bodyLimit: ${LIMIT}`), 'triage.yml');
  const { app } = await makeApp(t, { config: { triage: config } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const total = 8 * 1024 * 1024;
  const host = `Host: 127.0.0.1:${port}\r\n`;
  const webhook = `POST /webhook/alertmanager HTTP/1.1\r\n${host}Authorization: Bearer ${WEBHOOK_TOKEN}\r\nContent-Type: application/json\r\n`;
  const form = `POST /sign-in HTTP/1.1\r\n${host}Content-Type: application/x-www-form-urlencoded\r\n`;

  for (const readAfterWriting of [false, true]) {
    for (const [name, start] of [
      ['webhook', webhook],
      ['a page form (sign-in)', form],
    ] as const) {
      for (const chunked of [false, true]) {
        const framing = chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${total}\r\n\r\n`;
        const what = `${name}, ${chunked ? 'chunked (the limit is found while reading)' : 'Content-Length over the limit'}, ${
          readAfterWriting ? 'read after writing it all' : 'read while writing'
        }`;
        const r = await sendOversized(port, start + framing, total, chunked, readAfterWriting);
        t.match(r.answer, /^HTTP\/1\.1 413 Payload Too Large\r\n/, `${what}: 413`);
        t.equal(r.error, undefined, `${what}: no reset (${r.sent} bytes sent)`);
        t.equal(r.sent, total, `${what}: the whole body went out`);
      }
    }
  }

  // The rest of a refused body is read only so far: beyond that the sender is cut off.
  const beyond = drainLimit(LIMIT) + 16 * 1024 * 1024; // well past what the kernel buffers hold
  const flood = await sendOversized(port, `${webhook}Content-Length: ${beyond}\r\n\r\n`, beyond, false, false);
  t.match(flood.answer, /^HTTP\/1\.1 413 /, 'a client that reads meanwhile still has its 413');
  t.ok(flood.error && flood.sent < beyond, `and is cut off (${flood.error ?? 'no error'} after ${flood.sent} of ${beyond} bytes)`);
});

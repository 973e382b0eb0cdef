import type { FastifyInstance } from 'fastify';

/**
 * How much more of a refused (413) body is read and thrown away: four times the body limit, at
 * least 16 MiB. A client that sends more than that after its 413 is cut off.
 */
export function drainLimit(bodyLimit: number): number {
  return Math.max(4 * bodyLimit, 16 * 1024 * 1024);
}

/**
 * A 413 while the client is still sending its body. Fastify answers it with `Connection: close`,
 * and Node then closes a socket whose receive buffer still holds the client's bytes; the kernel
 * answers those with a reset, so a client still writing (or one that reads the answer only once it
 * has sent everything, as many simple HTTP clients do) sees ECONNRESET or EPIPE instead of the 413.
 * Instead the connection is kept, and the rest of the body is read and thrown away, as Node does for
 * any body a handler left unread, up to `drainLimit`; the server's requestTimeout bounds how long.
 */
export function drainRefusedBodies(app: FastifyInstance, bodyLimit: number): void {
  const max = drainLimit(bodyLimit);
  app.addHook('onSend', async (req, reply, payload) => {
    const raw = req.raw;
    if (reply.statusCode !== 413 || raw.complete) return payload;
    reply.removeHeader('connection');
    let read = 0;
    raw.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > max) raw.socket.destroy();
    });
    raw.resume();
    return payload;
  });
}

import { DEFAULT_BACKLOG } from '../../src/config/load-config.js';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How a cut looks to the client: `reset` closes every connection and every new one at once (the
 * server went away); `blackhole` keeps accepting but never forwards a byte (a partition, where only
 * the client's own timeouts can tell).
 */
export type CutMode = 'reset' | 'blackhole';

/**
 * A TCP proxy on loopback in front of a real server (PostgreSQL in the tests), which a test can cut
 * and restore, so the service loses its database without anyone stopping the database itself.
 * Given several ports, it is a round-robin balancer: each new connection goes to the next one
 * (the storm benchmark's two replicas behind one address).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private mode: CutMode | undefined;
  /** Connections accepted so far, for the tests' comments. */
  accepted = 0;
  /** Socket errors seen, by side and code (the storm benchmark's STORM_DEBUG prints them). */
  readonly errors = new Map<string, number>();
  port = 0;

  private readonly targets: readonly number[];

  constructor(
    targetPort: number | readonly number[],
    private readonly targetHost = '127.0.0.1',
  ) {
    this.targets = typeof targetPort === 'number' ? [targetPort] : targetPort;
  }

  /** Listens on `port` (a free one by default) on loopback. */
  async start(port = 0): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen({ port, host: '127.0.0.1', backlog: DEFAULT_BACKLOG }, resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Destroys every open connection, and from now on every new one (`reset`) or swallows it (`blackhole`). */
  cut(mode: CutMode = 'reset'): void {
    this.mode = mode;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  /** New connections reach the server again (the ones the cut held in a black hole stay dead). */
  restore(): void {
    this.mode = undefined;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    this.open.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private note(what: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', (e: NodeJS.ErrnoException) => this.note(`client ${e.code ?? e.message}`));
    if (this.mode === 'reset') {
      client.destroy();
      return;
    }
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    if (this.mode === 'blackhole') {
      // Read and drop whatever the client sends; answer nothing.
      client.on('data', () => {});
      return;
    }
    const upstream = connect(this.targets[(this.accepted - 1) % this.targets.length]!, this.targetHost);
    this.open.add(upstream);
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      this.note(`upstream ${e.code ?? e.message}`);
      client.destroy();
    });
    upstream.on('close', () => {
      this.open.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

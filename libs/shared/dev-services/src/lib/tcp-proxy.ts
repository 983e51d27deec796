import net from 'node:net';

/**
 * A TCP forwarder to `target` that can be cut and restored, to make a real server unreachable for
 * the clients that go through it (connections refused, open ones closed) without stopping it; other
 * clients, talking to the server directly, keep working. The demo and the flag tests cut Unleash so.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;
  private stalled = false;

  constructor(private readonly target: { host: string; port: number }) {}

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isOpen(): boolean {
    return !!this.server;
  }

  /** Starts forwarding; after a cut, on the same port again. */
  async open(): Promise<this> {
    if (this.server) return this;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      if (this.stalled) for (const s of [client, upstream]) s.pause();
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
    return this;
  }

  /**
   * Stops moving bytes, as a frozen server does: connections stay open and new ones are accepted,
   * but nothing reaches either side until {@link resume}.
   */
  stall(): void {
    this.stalled = true;
    for (const s of this.sockets) s.pause();
  }

  /** Moves bytes again after {@link stall}. */
  resume(): void {
    this.stalled = false;
    for (const s of this.sockets) s.resume();
  }

  /** Stops forwarding: new connections are refused and open ones are closed. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

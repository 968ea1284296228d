/** A WebSocket test client on Node's global WebSocket that records every frame it receives. */
export class FeedClient {
  readonly frames: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener('message', (event) => {
      this.frames.push(JSON.parse(String(event.data)));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener('close', (event) => {
        resolve({ code: event.code, reason: event.reason });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }

  /** Opens `ws://…` with an optional bearer token in the Authorization header. */
  static open(url: string, options: { token?: string } = {}): Promise<FeedClient> {
    const init = options.token ? { headers: { authorization: `Bearer ${options.token}` } } : undefined;
    // Node's WebSocket (undici) accepts headers in its second argument; browsers use {"type":"auth"}.
    const socket = new WebSocket(url, init as never);
    const client = new FeedClient(socket);
    return new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(client), { once: true });
      socket.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true });
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first frame (from `from` on) matching `predicate`; waits for it up to `timeoutMs`. */
  async next(predicate: (frame: any) => boolean, options: { timeoutMs?: number; from?: number } = {}) {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const found = this.frames.slice(options.from ?? 0).find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`no matching frame; received: ${JSON.stringify(this.frames).slice(0, 2000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The close, or an error when the socket is still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  events(): any[] {
    return this.frames.filter((frame) => frame.type === 'event');
  }

  close(): void {
    this.socket.close();
  }
}

import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that can go silent the way a network partition does: a frozen
 * connection forwards nothing in either direction and passes on no close, yet stays open, so each
 * side waits for the other. `thaw()` delivers what was held back and the closes that came meanwhile.
 *
 * It reads the server's side of the protocol only far enough to find ReadyForQuery messages, whose
 * status byte says whether the session is inside a transaction: that is how `freezeInTransaction`
 * can cut a connection at the moment its transaction holds the locks it just took.
 */
export interface PgProxy {
  port: number;
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string;
  /** Freezes every connection, open and new, until `thaw()`. */
  freezeAll(): void;
  /**
   * Freezes the first connection whose client sends a message containing `marker` (a statement's
   * text), at the server's next answer that leaves the session inside a transaction, before that
   * answer reaches the client. Resolves once it has.
   */
  freezeInTransactionAfter(marker: string): Promise<void>;
  thaw(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  server: net.Socket;
  frozen: boolean;
  held: { toServer: Buffer[]; toClient: Buffer[]; clientEnded: boolean; serverEnded: boolean };
  /** Bytes of a server message not yet complete. */
  partial: Buffer;
  /** The client sent the armed marker: freeze at the next in-transaction ReadyForQuery. */
  sawMarker: boolean;
}

const READY_FOR_QUERY = 'Z'.charCodeAt(0);
const IN_TRANSACTION = 'T'.charCodeAt(0);

/** True when `chunk` (continuing `partial`) completes a ReadyForQuery with status 'T'; returns the rest. */
function scanServerMessages(partial: Buffer, chunk: Buffer): { inTransaction: boolean; rest: Buffer } {
  let buffer = partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk;
  let inTransaction = false;
  while (buffer.length >= 5) {
    const length = buffer.readInt32BE(1);
    if (buffer.length < 1 + length) break;
    if (buffer[0] === READY_FOR_QUERY && buffer[5] === IN_TRANSACTION) inTransaction = true;
    buffer = buffer.subarray(1 + length);
  }
  return { inTransaction, rest: Buffer.from(buffer) };
}

export async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const links = new Set<Link>();
  let freezeNew = false;
  let armed: { marker: string; resolve: () => void } | undefined;

  const freeze = (link: Link) => {
    link.frozen = true;
  };
  const thawLink = (link: Link) => {
    link.frozen = false;
    for (const chunk of link.held.toServer.splice(0)) link.server.write(chunk);
    for (const chunk of link.held.toClient.splice(0)) link.client.write(chunk);
    if (link.held.clientEnded) link.server.end();
    if (link.held.serverEnded) link.client.end();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const link: Link = {
      client,
      server: upstream,
      frozen: freezeNew,
      held: { toServer: [], toClient: [], clientEnded: false, serverEnded: false },
      partial: Buffer.alloc(0),
      sawMarker: false,
    };
    links.add(link);
    client.on('data', (chunk) => {
      if (armed && !link.sawMarker && chunk.includes(armed.marker)) link.sawMarker = true;
      if (link.frozen) link.held.toServer.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      const scan = scanServerMessages(link.partial, chunk);
      link.partial = scan.rest;
      if (!link.frozen && link.sawMarker && scan.inTransaction && armed) {
        freeze(link);
        armed.resolve();
        armed = undefined;
      }
      if (link.frozen) link.held.toClient.push(chunk);
      else client.write(chunk);
    });
    client.on('end', () => {
      if (link.frozen) link.held.clientEnded = true;
      else upstream.end();
    });
    upstream.on('end', () => {
      if (link.frozen) link.held.serverEnded = true;
      else client.end();
    });
    const drop = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => {
      if (!link.frozen) drop();
    });
    upstream.on('close', () => {
      if (!link.frozen) drop();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    urlFor(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    freezeAll() {
      freezeNew = true;
      for (const link of links) freeze(link);
    },
    freezeInTransactionAfter(marker) {
      return new Promise<void>((resolve) => {
        armed = { marker, resolve };
      });
    },
    thaw() {
      freezeNew = false;
      for (const link of links) thawLink(link);
    },
    async close() {
      for (const link of links) {
        link.client.destroy();
        link.server.destroy();
      }
      links.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

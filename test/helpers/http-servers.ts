import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test PMS saw of one request. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Text as it is; anything else as JSON. Undefined: no body at all. */
  body?: unknown;
  /** Never answer (a hanging endpoint): the socket stays open until the server closes. */
  hang?: boolean;
}

export type TestHandler = (request: SeenRequest) => Reply | Promise<Reply>;

export interface TestServer {
  url: string;
  origin: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** A throwaway HTTP server on 127.0.0.1 that records every request (method, URL, headers, body). */
export async function testServer(handler: TestHandler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: SeenRequest = {
        method: request.method ?? 'GET',
        url: new URL(request.url ?? '/', 'http://pms.local'),
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      void Promise.resolve(handler(seen)).then((reply) => {
        if (reply.hang) return;
        const text =
          reply.body === undefined
            ? ''
            : typeof reply.body === 'string'
              ? reply.body
              : JSON.stringify(reply.body);
        const type =
          typeof reply.body === 'string' && reply.body.startsWith('<') ? 'text/xml' : 'application/json';
        response.writeHead(reply.status ?? 200, {
          ...(reply.body === undefined ? {} : { 'content-type': type }),
          ...reply.headers,
        });
        response.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    origin: url,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

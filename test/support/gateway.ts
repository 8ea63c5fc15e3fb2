import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a notification gateway received: headers and the exact body bytes. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Gateway {
  url: string;
  received: Received[];
  /** Answer the next `n` POSTs with this status (then 204 again). */
  failNext(n: number, status: number): void;
  close(): Promise<void>;
}

/** A real HTTP receiver standing in for the city's SMS/app gateway (docs/holders.md). */
export async function startGateway(): Promise<Gateway> {
  const received: Received[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 503 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (failures.left > 0) {
        failures.left--;
        res.writeHead(failures.status).end('try later');
        return;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    failNext(n, status) {
      failures = { left: n, status };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * @module api/serve-http
 * Puts the API on its HTTP(S) listener: TLS when the server has its certificate, malformed
 * requests answered with JSON errors, and a taken port explained with what to do next.
 */
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import { answerClientErrorsWithJson } from '@edgeloop/protocol';

export function serveHttp(
  fetch: (request: Request) => Response | Promise<Response>,
  at: { host: string; port: number },
  tls: { key: string | Buffer; cert: string | Buffer } | undefined,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const https = tls
      ? {
          createServer: createHttpsServer,
          serverOptions: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' as const },
        }
      : {};
    const s = serve({ fetch, hostname: at.host, port: at.port, ...https }, () => resolve(s));
    answerClientErrorsWithJson(s as HttpServer);
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot serve HTTP on ${at.host}:${at.port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}; pick another with --http-port (0 = any free port)`,
        ),
      ),
    );
  });
}

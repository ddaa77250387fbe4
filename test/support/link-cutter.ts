/**
 * @module support/link-cutter
 * A TCP proxy in front of a broker that a test can cut and restore: a device whose MQTT URL points
 * here loses its fleet link exactly as on a real site (open sockets are destroyed, new connects
 * refused until restored) while everything else keeps talking to the broker directly.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LinkCutter {
  /** mqtt://127.0.0.1:<port> of the proxy. */
  url: string;
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startLinkCutter(target: string): Promise<LinkCutter> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let isCut = false;
  const server: Server = createServer((client) => {
    if (isCut) return client.destroy();
    const upstream = connect(Number(port), hostname);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the link cutter has no TCP port');
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    cut() {
      isCut = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      isCut = false;
    },
    get isCut() {
      return isCut;
    },
    async close() {
      isCut = true;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

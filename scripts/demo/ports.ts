/**
 * @module demo/ports
 * `npm start` prefers fixed ports (so URLs are stable between runs) but must still start when a
 * user already runs something there (a local Mosquitto on 1883, another demo, …).
 */
import { createServer } from 'node:net';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The preferred port if it is free, else 0 (the OS picks one). */
export async function preferredPort(port: number): Promise<number> {
  return (await isPortFree(port)) ? port : 0;
}

/**
 * @module console/live/event-routes
 * GET /console/events: server-sent events for a logged-in browser. Sends `change` events whose
 * data is the space-separated topics that changed, a comment every 15 s so proxies keep the
 * connection, and ends when the session does (the browser reconnects and is sent to log in).
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ConsoleEnv } from '../session/console-session.js';
import type { ChangeFeed } from './change-feed.js';

const KEEPALIVE_MS = 15_000;

export function eventRoutes(feed: ChangeFeed): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  app.get('/console/events', (c) => {
    const expiresAt = c.get('caller').expiresAt;
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined;
      const queue: string[] = [];
      const unsubscribe = feed.subscribe((topics) => {
        queue.push(topics.join(' '));
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'hello', data: 'live' });
      try {
        while (!stream.aborted && !stream.closed && Date.now() < expiresAt) {
          if (queue.length === 0)
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, KEEPALIVE_MS).unref();
            });
          wake = undefined;
          if (stream.aborted) break;
          if (queue.length === 0) {
            await stream.write(': keep-alive\n\n');
            continue;
          }
          const topics = new Set(queue.splice(0).flatMap((q) => q.split(' ')));
          await stream.writeSSE({ event: 'change', data: [...topics].join(' ') });
        }
      } finally {
        unsubscribe();
      }
    });
  });
  return app;
}

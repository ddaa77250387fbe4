/**
 * @module api/local-client
 * The other side of the local API, for `edgeloop-agent status` and `models`: where a configured
 * agent listens, and GET requests that turn "nothing listens there" into advice.
 */
import type { AgentConfig } from '../config.js';

export class AgentUnreachable extends Error {}

/** The URL a local client reaches the configured agent at (a wildcard bind is reached on loopback). */
export function localApiUrl(api: AgentConfig['api']): string {
  const host = api.host === '0.0.0.0' || api.host === '' ? '127.0.0.1' : api.host === '::' ? '::1' : api.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${api.port}`;
}

export async function getLocal<T>(baseUrl: string, path: string, timeoutMs = 5000): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (inner?.code ?? inner?.message ?? (err as Error).message);
    throw new AgentUnreachable(
      `no agent answers at ${baseUrl} (${cause}): start it with edgeloop-agent run (or systemctl start edgeloop-agent)`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AgentUnreachable(
      `${baseUrl}${path} answered ${res.status} with something that is not JSON; is an EdgeLoop agent listening there?`,
    );
  }
  if (!res.ok)
    throw new AgentUnreachable(
      `${baseUrl}${path} answered ${res.status}: ${(body as { error?: string }).error ?? text}`,
    );
  return body as T;
}

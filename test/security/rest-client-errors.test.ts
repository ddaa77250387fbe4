/**
 * Security/robustness: requests Node's HTTP parser refuses before any route runs (a control
 * character in `x-request-id`, headers over Node's 16 KiB limit, a garbled request line) used to
 * get Node's bare 400 with no body. The README promises `{"error": "..."}` on every 4xx: the
 * agent's local API and the fleet server now answer these with a JSON 400 / 431 too.
 * Raw sockets, because no well-behaved HTTP client sends such requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestFleet } from '../support/in-process-fleet.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `raw` to the server and reads until it closes the connection. */
function rawRequest(url: string, raw: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw, 'latin1'));
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(parts).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

const CASES: Array<{ label: string; raw: (path: string) => string; status: number; error: RegExp }> = [
  {
    label: 'a control character in x-request-id',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nx-request-id: abc\x01def\r\n\r\n`,
    status: 400,
    error: /header holds a character HTTP does not allow/,
  },
  {
    label: 'headers over the size limit',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nx-padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431,
    error: /request headers are too large/,
  },
  {
    label: 'a garbled request line',
    raw: () => 'THIS IS NOT HTTP\r\n\r\n',
    status: 400,
    error: /HTTP request is malformed/,
  },
];

async function assertJsonRefusals(url: string, path: string, who: string): Promise<void> {
  for (const c of CASES) {
    const answer = await rawRequest(url, c.raw(path));
    assert.equal(answer.status, c.status, `${who}, ${c.label}`);
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/, `${who}, ${c.label}: content-type`);
    const body = JSON.parse(answer.body) as { error?: string };
    assert.match(body.error ?? '', c.error, `${who}, ${c.label}: ${answer.body}`);
  }
}

test(
  'the agent local API and the fleet server answer requests Node refuses with a JSON error',
  { timeout: 90_000 },
  async (t) => {
    const h = await startTestFleet();
    t.after(() => h.close());
    const agent = await h.startAgent('pi-1');
    // Positive control: a well-formed request with an x-request-id is served.
    const ok = await rawRequest(
      agent.apiUrl,
      'GET /v1/health/live HTTP/1.1\r\nHost: localhost\r\nx-request-id: abc-def\r\nConnection: close\r\n\r\n',
    );
    assert.equal(ok.status, 200);

    await assertJsonRefusals(agent.apiUrl, '/v1/health', 'agent local API');
    await assertJsonRefusals(h.server.httpUrl, '/api/v1/health', 'fleet server');
    // Both keep serving.
    assert.equal((await fetch(`${agent.apiUrl}/v1/health/live`)).status, 200);
    assert.equal((await fetch(`${h.server.httpUrl}/api/v1/health`)).status, 200);
  },
);

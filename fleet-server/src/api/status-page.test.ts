import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_PAGE } from './status-page.js';

test('the status page script parses and sends the token it took from the URL fragment', () => {
  const script = STATUS_PAGE.split('<script>')[1]!.split('</script>')[0]!;
  // Runs the page's script against a fake browser: it must read #token=, store it, clear the address bar and send it.
  const stored = new Map<string, string>();
  const sent: Array<{ path: string; auth: string | undefined }> = [];
  let replaced = '';
  const elements = new Map<string, { textContent: string; innerHTML: string }>();
  const document = {
    getElementById: (id: string) =>
      elements.get(id) ?? (elements.set(id, { textContent: '', innerHTML: '' }), elements.get(id)!),
  };
  const fakeFetch = (path: string, init?: { headers?: Record<string, string> }) => {
    sent.push({ path, auth: init?.headers?.authorization });
    return Promise.resolve({
      status: 200,
      ok: true,
      json: () => Promise.resolve(path.includes('devices') ? { devices: [] } : { models: [] }),
    });
  };
  const run = new Function('location', 'localStorage', 'history', 'fetch', 'document', 'setInterval', script);
  run(
    { hash: '#token=ela_secret%2Dtoken', pathname: '/', search: '' },
    {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => stored.set(k, v),
      removeItem: (k: string) => stored.delete(k),
    },
    {
      replaceState: (_s: unknown, _t: string, url: string) => {
        replaced = url;
      },
    },
    fakeFetch,
    document,
    () => 0,
  );
  assert.deepEqual([...stored.values()], ['ela_secret-token']);
  assert.equal(replaced, '/', 'the token is removed from the address bar');
  assert.deepEqual(
    sent.map((s) => s.auth),
    ['Bearer ela_secret-token', 'Bearer ela_secret-token'],
  );
});

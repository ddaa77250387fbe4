/**
 * @module console/client/csrf-fetch
 * fetch for page scripts: same-origin, with the session cookie and the CSRF token the page was
 * rendered with (the API refuses a state-changing call by cookie without it).
 */
export function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
}

export function consoleFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if ((init.method ?? 'GET').toUpperCase() !== 'GET') headers.set('x-csrf-token', csrfToken());
  return fetch(url, { ...init, headers, credentials: 'same-origin' });
}

/**
 * @module console/client/login-link
 * `npm start` and `edgeloop serve` print `…/login#token=…` so a developer lands logged in. The
 * fragment never reaches the server or its logs; this script moves it into the login form, clears
 * it from the address bar and history, and sends the form (which trades it for a session cookie).
 */
export function loginFromLink(): void {
  if (location.pathname !== '/login') return;
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname + location.search);
  const input = document.querySelector<HTMLInputElement>('#token');
  if (!input) return;
  input.value = decodeURIComponent(m[1]!);
  input.form?.requestSubmit();
}

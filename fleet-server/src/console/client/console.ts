/**
 * @module console/client/console
 * The script every console page loads (kept small: it is on every page). It
 *  - shows times in the browser's zone and keeps "… ago" fresh;
 *  - asks before a form marked `data-confirm` is sent (a native <dialog>);
 *  - keeps live regions fresh: one server-sent-events connection per page; when a topic a region
 *    lists changes, the region is fetched again from its `data-src` (at most once a second);
 *  - logs in from a printed `/login#token=…` link (login-link.ts);
 *  - sends the CSRF token with every state-changing fetch a page script makes (`consoleFetch`).
 */
import { startLiveUpdates } from './live.js';
import { localizeTimes } from './local-time.js';
import { enhanceConfirmForms } from './confirm.js';
import { loginFromLink } from './login-link.js';

function start(): void {
  loginFromLink();
  localizeTimes(document);
  enhanceConfirmForms(document);
  if (document.querySelector('meta[name="csrf-token"]')) startLiveUpdates();
  setInterval(() => localizeTimes(document), 15_000);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

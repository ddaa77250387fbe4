/**
 * @module console/client/live
 * Live regions over server-sent events. The server sends an event per topic that changed
 * (`devices`, `rollouts`, `incidents`, `models`, `loop`, `telemetry`); every element with
 * `data-live="topic …"` and `data-src` is fetched again and replaced, at most once a second per
 * region, keeping keyboard focus where it was. EventSource reconnects by itself; the header
 * shows whether the page is live.
 */
import { localizeTimes } from './local-time.js';

const MIN_INTERVAL_MS = 1000;
const pending = new Map<HTMLElement, number>();
const lastLoad = new WeakMap<HTMLElement, number>();

async function reload(el: HTMLElement): Promise<void> {
  const src = el.dataset.src;
  if (!src) return;
  // A confirmation dialog belongs to a form in the page: replacing the region under it would
  // detach that form and its confirmed submit would go nowhere. Wait until it is answered.
  if (document.querySelector('dialog[open]')) {
    window.setTimeout(() => schedule(el), 300);
    return;
  }
  lastLoad.set(el, Date.now());
  const res = await fetch(src, { headers: { accept: 'text/html', 'x-console-fragment': '1' } });
  if (res.status === 401)
    return location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  if (!res.ok) return;
  const html = await res.text();
  const focusedId = document.activeElement?.id;
  const tmpl = document.createElement('template');
  tmpl.innerHTML = html.trim();
  const fresh = tmpl.content.firstElementChild;
  if (!(fresh instanceof HTMLElement)) return;
  el.replaceWith(fresh);
  localizeTimes(fresh);
  fresh.dispatchEvent(new CustomEvent('console:refreshed', { bubbles: true }));
  if (focusedId) document.getElementById(focusedId)?.focus();
}

function schedule(el: HTMLElement): void {
  if (pending.has(el)) return;
  const wait = Math.max(0, (lastLoad.get(el) ?? 0) + MIN_INTERVAL_MS - Date.now());
  pending.set(
    el,
    window.setTimeout(() => {
      pending.delete(el);
      void reload(el);
    }, wait),
  );
}

export function startLiveUpdates(): void {
  const state = document.getElementById('live-state');
  const source = new EventSource('/console/events');
  const setState = (text: string, live: boolean) => {
    if (!state) return;
    state.textContent = text;
    state.dataset.state = live ? 'live' : 'down';
  };
  source.addEventListener('open', () => setState('live', true));
  source.addEventListener('error', () => setState('reconnecting…', false));
  source.addEventListener('change', (event) => {
    const topics = new Set(String((event as MessageEvent).data).split(' '));
    for (const el of document.querySelectorAll<HTMLElement>('[data-live]')) {
      if (el.dataset.live!.split(' ').some((t) => topics.has(t))) schedule(el);
    }
    document.dispatchEvent(new CustomEvent('console:change', { detail: [...topics] }));
  });
}

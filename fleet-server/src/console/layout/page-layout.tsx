/**
 * @module console/layout/page-layout
 * The frame of every console page: navigation, who is logged in (and with which role), a flash
 * message, the live-update connection state. No inline script or style: the Content-Security-Policy
 * forbids both, so behaviour comes from the bundled /console/assets/*.js and data for charts travels
 * in `<script type="application/json">` islands, which browsers never execute.
 */
import type { Child } from 'hono/jsx';
import type { ConsoleCaller } from '../session/console-session.js';
import { CSRF_FIELD } from '../session/session-constants.js';
import { assetUrl } from '../assets/asset-urls.js';

export const NAV = [
  { href: '/', label: 'Overview', section: 'overview' },
  { href: '/devices', label: 'Devices', section: 'devices' },
  { href: '/models', label: 'Models', section: 'models' },
  { href: '/rollouts', label: 'Rollouts', section: 'rollouts' },
  { href: '/drift', label: 'Drift & error', section: 'drift' },
  { href: '/retraining', label: 'Retraining', section: 'retraining' },
  { href: '/try', label: 'Try a model', section: 'try' },
] as const;
export type Section = (typeof NAV)[number]['section'];

export interface LayoutProps {
  title: string;
  section: Section | 'login';
  caller?: ConsoleCaller;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
  /** Extra bundled scripts for this page (besides the console's own), by entry name. */
  scripts?: readonly string[];
  children?: Child;
}

export function Layout(props: LayoutProps) {
  const { caller } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        {caller ? <meta name="csrf-token" content={caller.csrfToken} /> : null}
        {caller ? <meta name="console-role" content={caller.role} /> : null}
        <title>{`${props.title} · EdgeLoop`}</title>
        <link rel="stylesheet" href={assetUrl('console.css')} />
        <script type="module" src={assetUrl('console.js')}></script>
        {(props.scripts ?? []).map((s) => (
          <script type="module" src={assetUrl(`${s}.js`)}></script>
        ))}
      </head>
      <body data-section={props.section}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            EdgeLoop
          </a>
          {caller ? (
            <nav aria-label="Console sections">
              <ul>
                {NAV.map((n) => (
                  <li>
                    <a href={n.href} aria-current={n.section === props.section ? 'page' : undefined}>
                      {n.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {caller ? (
            <div class="who">
              <span class="live" id="live-state" role="status" aria-live="polite" title="live updates">
                connecting…
              </span>
              <span>
                {caller.name} <span class={`role role-${caller.role}`}>{caller.role}</span>
              </span>
              <form method="post" action="/logout">
                <input type="hidden" name={CSRF_FIELD} value={caller.csrfToken} />
                <button type="submit" class="link">
                  Log out
                </button>
              </form>
            </div>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          {props.flash ? (
            <p class={`flash flash-${props.flash.kind}`} role={props.flash.kind === 'error' ? 'alert' : 'status'}>
              {props.flash.text}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

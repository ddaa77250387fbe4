/**
 * @module console/layout/components
 * Small pieces every page uses: times the browser shows in its own zone, status badges, forms
 * that carry the CSRF token and ask for confirmation, pagers, chart data islands.
 */
import type { Child } from 'hono/jsx';
import { CSRF_FIELD } from '../session/session-constants.js';

/**
 * A point in time. The server writes UTC (readable without JavaScript); the console script
 * rewrites it in the browser's zone and keeps "… ago" fresh.
 */
export function Time(props: { at: number | null | undefined; ago?: boolean; empty?: string }) {
  if (props.at === null || props.at === undefined) return <span class="muted">{props.empty ?? 'never'}</span>;
  const iso = new Date(props.at).toISOString();
  return (
    <time datetime={iso} data-local={props.ago ? 'ago' : 'datetime'} title={iso}>
      {iso.replace('T', ' ').slice(0, 19)} UTC
    </time>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export function Badge(props: { tone: Tone; children?: Child; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

/**
 * A state-changing button. Works without JavaScript (a plain POST with the CSRF field); with it,
 * `confirm` opens a dialog naming what will happen before the form is sent.
 */
export function ActionForm(props: {
  action: string;
  csrf: string;
  label: string;
  confirm?: string;
  danger?: boolean;
  disabled?: boolean;
  disabledReason?: string;
  fields?: Record<string, string>;
  children?: Child;
}) {
  return (
    <form method="post" action={props.action} class="action" data-confirm={props.confirm}>
      <input type="hidden" name={CSRF_FIELD} value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      {props.children}
      <button
        type="submit"
        class={props.danger ? 'danger' : undefined}
        disabled={props.disabled}
        title={props.disabled ? props.disabledReason : undefined}
      >
        {props.label}
      </button>
    </form>
  );
}

/** Chart or table data for the page's script: JSON that the browser never executes (CSP-safe). */
export function DataIsland(props: { id: string; data: unknown }) {
  const json = JSON.stringify(props.data).replace(/</g, '\\u003c');
  return <script type="application/json" id={props.id} dangerouslySetInnerHTML={{ __html: json }}></script>;
}

/** "1–50 of 9,812" with previous/next links that keep the page's other query parameters. */
export function Pager(props: { url: URL; offset: number; limit: number; total: number; shown: number }) {
  const { url, offset, limit, total, shown } = props;
  const link = (o: number) => {
    const u = new URL(url);
    if (o <= 0) u.searchParams.delete('offset');
    else u.searchParams.set('offset', String(o));
    return u.pathname + u.search;
  };
  return (
    <nav class="pager" aria-label="Pages">
      <span>
        {total === 0 ? 'none' : `${(offset + 1).toLocaleString('en')}–${(offset + shown).toLocaleString('en')}`} of{' '}
        {total.toLocaleString('en')}
      </span>
      {offset > 0 ? (
        <a href={link(Math.max(0, offset - limit))} rel="prev">
          ← Previous
        </a>
      ) : null}
      {offset + shown < total ? (
        <a href={link(offset + limit)} rel="next">
          Next →
        </a>
      ) : null}
    </nav>
  );
}

/** A section that the page's live connection reloads from `src` when one of `topics` changes. */
export function LiveRegion(props: { id: string; src: string; topics: string; children?: Child; label?: string }) {
  return (
    <div id={props.id} data-live={props.topics} data-src={props.src} aria-label={props.label}>
      {props.children}
    </div>
  );
}

export function Empty(props: { children?: Child }) {
  return <p class="empty">{props.children}</p>;
}

export function fmtNumber(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en');
  // Trailing zeros of the fraction only: 90 with no digits stays 90.
  return digits > 0 ? n.toFixed(digits).replace(/\.?0+$/, '') : n.toFixed(0);
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

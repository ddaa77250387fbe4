/**
 * @module console/client/local-time
 * `<time data-local="datetime|ago">` as the browser's zone shows it.
 */
const FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function formatLocal(t: number): string {
  return FORMAT.format(new Date(t));
}

export function localizeTimes(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLTimeElement>('time[data-local]')) {
    const t = Date.parse(el.dateTime);
    if (!Number.isFinite(t)) continue;
    el.textContent = el.dataset.local === 'ago' ? ago(Date.now() - t) : formatLocal(t);
    el.title = formatLocal(t);
  }
}

/**
 * @module console/client/try-model/page
 * The console's try-a-model page: the model runs in the page (index.ts), then this shows what
 * the fleet recorded for the most similar inputs — the version's recent records whose monitoring
 * features (the same ones the agent records, computed here on the same model-size pixels) are
 * nearest to this image's, each feature scaled by its spread over those records.
 */
import type { TryModelResult } from './run-model.js';
import './index.js';

const RECORDS = 2000;
const SHOWN = 5;

interface RecordRow {
  id: number;
  deviceId: string;
  ts: number;
  prediction: number | null;
  reference: number | null;
  features: Record<string, number>;
}

function nearest(result: TryModelResult, rows: RecordRow[]): Array<RecordRow & { distance: number }> {
  const keys = Object.keys(result.features).filter((k) => rows.some((r) => k in r.features));
  const spread = new Map<string, number>();
  for (const k of keys) {
    const values = rows.map((r) => r.features[k]).filter((v): v is number => typeof v === 'number');
    const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length));
    spread.set(k, sd > 1e-9 ? sd : 1);
  }
  return rows
    .filter((r) => keys.every((k) => typeof r.features[k] === 'number'))
    .map((r) => ({
      ...r,
      distance: Math.sqrt(keys.reduce((a, k) => a + ((r.features[k]! - result.features[k]!) / spread.get(k)!) ** 2, 0)),
    }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, SHOWN);
}

function cell(text: string, header = false): HTMLTableCellElement {
  const c = document.createElement(header ? 'th' : 'td');
  if (header) c.scope = 'col';
  c.textContent = text;
  return c;
}

async function showSimilar(form: HTMLElement, box: HTMLElement): Promise<void> {
  const result = JSON.parse(form.dataset.result ?? 'null') as (TryModelResult & { name?: string }) | null;
  const select = form.querySelector<HTMLSelectElement>('select[name="version"]');
  if (!result || !select) return;
  const [model, version] = select.value.split(':');
  const url = `${form.dataset.telemetryUrl ?? '/api/v1/telemetry'}?model=${encodeURIComponent(model!)}&version=${version}&shadow=false&limit=${RECORDS}&order=newest`;
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) {
    box.textContent = `cannot read the fleet's records (HTTP ${res.status})`;
    return;
  }
  const rows = ((await res.json()) as { records: RecordRow[] }).records;
  const near = nearest(result, rows);
  if (near.length === 0) {
    box.textContent = `The fleet has no records of ${model} v${version} with input features yet.`;
    return;
  }
  const table = document.createElement('table');
  const caption = document.createElement('caption');
  caption.className = 'muted';
  caption.textContent = `Nearest ${near.length} of ${rows.length} recent records by input features`;
  const head = document.createElement('tr');
  head.append(
    cell('Device', true),
    cell('Recorded', true),
    cell('Prediction', true),
    cell('Reference', true),
    cell('Distance', true),
  );
  const body = document.createElement('tbody');
  for (const r of near) {
    const tr = document.createElement('tr');
    const device = document.createElement('td');
    const link = document.createElement('a');
    link.href = `/devices/${encodeURIComponent(r.deviceId)}`;
    link.textContent = r.deviceId;
    device.append(link);
    tr.append(
      device,
      cell(new Date(r.ts).toLocaleString()),
      cell(r.prediction === null ? '–' : r.prediction.toFixed(2)),
      cell(r.reference === null ? '–' : r.reference.toFixed(2)),
      cell(r.distance.toFixed(2)),
    );
    body.append(tr);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  table.append(caption, thead, body);
  box.replaceChildren(table);
}

for (const form of document.querySelectorAll<HTMLElement>('[data-try-model]')) {
  const box = form.querySelector<HTMLElement>('[data-try-similar]');
  if (!box) continue;
  new MutationObserver(() => {
    if (form.dataset.state === 'done') void showSimilar(form, box);
  }).observe(form, { attributes: true, attributeFilter: ['data-state'] });
}

/**
 * @module console/client/upload/model-upload
 * The upload form of /models/upload: checks the metadata fields, assembles them into the API's
 * `metadata` JSON and sends the file straight to POST /api/v1/models with XMLHttpRequest, whose
 * upload events drive the progress bar (fetch has none). The session cookie authenticates; the
 * page's CSRF token goes in the header. The API's own refusal text is shown as it is.
 */
import { csrfToken } from '../csrf-fetch.js';

export class MetadataError extends Error {}

/** The form's metadata fields as the API's metadata object; throws MetadataError naming the field. */
export function assembleMetadata(fields: {
  metadata: string;
  description: string;
  labels: string;
  metrics: string;
}): Record<string, unknown> {
  let meta: Record<string, unknown> = {};
  if (fields.metadata.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields.metadata);
    } catch (err) {
      throw new MetadataError(`More metadata is not valid JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new MetadataError('More metadata must be a JSON object, e.g. {"preprocessing": {…}}');
    meta = parsed as Record<string, unknown>;
  }
  if (fields.description.trim()) meta['description'] = fields.description.trim();
  const lines = fields.labels
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length) {
    const labels: Record<string, string> = {};
    lines.forEach((line, i) => {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new MetadataError(`Labels line ${i + 1} ("${line}"): write key=value`);
      labels[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    });
    meta['labels'] = labels;
  }
  if (fields.metrics.trim()) {
    let metrics: unknown;
    try {
      metrics = JSON.parse(fields.metrics);
    } catch (err) {
      throw new MetadataError(`Metrics are not valid JSON: ${(err as Error).message}`);
    }
    if (
      metrics === null ||
      typeof metrics !== 'object' ||
      Array.isArray(metrics) ||
      !Object.values(metrics).every((v) => typeof v === 'number' && Number.isFinite(v))
    )
      throw new MetadataError('Metrics must be a JSON object of numbers, e.g. {"mae_mm": 12.5}');
    meta['metrics'] = metrics;
  }
  return meta;
}

function enhance(form: HTMLFormElement): void {
  const submit = form.querySelector<HTMLButtonElement>('[data-upload-submit]')!;
  const progress = form.querySelector<HTMLProgressElement>('progress')!;
  const percent = form.querySelector<HTMLElement>('[data-upload-percent]')!;
  const result = form.querySelector<HTMLElement>('[data-upload-result]')!;
  const error = form.querySelector<HTMLElement>('[data-upload-error]')!;
  if (form.dataset.allowed === 'true') submit.disabled = false;

  const fail = (text: string) => {
    error.textContent = text;
    error.hidden = false;
    submit.disabled = false;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.hidden = true;
    result.textContent = '';
    const value = (name: string) =>
      (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | null)?.value ?? '';
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
    if (!file) return fail('Choose the ONNX file to upload.');
    let metadata: Record<string, unknown>;
    try {
      metadata = assembleMetadata({
        metadata: value('metadata'),
        description: value('description'),
        labels: value('labels'),
        metrics: value('metrics'),
      });
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const body = new FormData();
    body.set('name', value('name').trim());
    if (value('version').trim()) body.set('version', value('version').trim());
    if ((form.elements.namedItem('force') as HTMLInputElement | null)?.checked) body.set('force', 'true');
    if (Object.keys(metadata).length) body.set('metadata', JSON.stringify(metadata));
    body.set('file', file, file.name);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.dataset.upload ?? '/api/v1/models');
    xhr.setRequestHeader('x-csrf-token', csrfToken());
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      const p = Math.round((e.loaded / e.total) * 100);
      progress.value = p;
      percent.textContent = `${p} %`;
    });
    xhr.addEventListener('load', () => {
      let answer: { model?: { name: string; version: number }; error?: string } = {};
      try {
        answer = JSON.parse(xhr.responseText) as typeof answer;
      } catch {
        // not JSON: the status line says enough
      }
      if (xhr.status === 201 && answer.model) {
        progress.value = 100;
        percent.textContent = '100 %';
        const { name, version } = answer.model;
        const link = document.createElement('a');
        link.href = `/models/${encodeURIComponent(name)}/versions/${version}`;
        link.textContent = `${name} v${version}`;
        link.dataset.testid = 'upload-done';
        result.replaceChildren('Registered ', link, '.');
        submit.disabled = false;
        return;
      }
      progress.value = 0;
      percent.textContent = '';
      fail(answer.error ?? `The upload was refused (${xhr.status} ${xhr.statusText}).`);
    });
    xhr.addEventListener('error', () => fail('The upload did not reach the server: check the connection and retry.'));
    submit.disabled = true;
    progress.value = 0;
    percent.textContent = '0 %';
    xhr.send(body);
  });
}

if (typeof document !== 'undefined') {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-upload]')) enhance(form);
}

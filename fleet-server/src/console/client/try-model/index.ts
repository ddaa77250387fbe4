/**
 * @module console/client/try-model
 * The "try a model" page's script: an operator picks a version, chooses or drops an image, and the
 * version runs in the page on its own preprocessing. It wires itself to markup the server renders
 * (no inline script: the versions travel as JSON data, which CSP does not execute):
 *
 *   <form data-try-model data-wasm-paths="/assets/ort/" data-artifact-url="/api/v1/artifacts/{sha256}">
 *     <script type="application/json" data-try-model-versions>[{name, version, sha256, inputs,
 *       outputs, preprocessing, postprocessing}, …]</script>
 *     <label>Version <select name="version"></select></label>
 *     <label>Image <input type="file" name="image" accept="image/*"></label>
 *     <div data-drop-zone>…or drop an image here</div>
 *     <p role="alert" data-try-model-error hidden></p>
 *     <output data-try-model-result aria-live="polite"></output>
 *   </form>
 *
 * The JSON must be written with "<" escaped as \u003c, so no version text can close the element.
 * The select is filled from it unless the server rendered its options (valued "name:version").
 * The form's `data-state` goes idle → loading → running → done (or error), and `data-result`
 * holds the last result as JSON, for tests and for the page's "what the fleet recorded" panel.
 */
import { canvasResampler, decodeImage } from './canvas.js';
import { BrowserModel, fetchArtifact, TryModelError, type TryModelResult, type TryModelVersion } from './run-model.js';

export { BrowserModel, fetchArtifact, TryModelError, type TryModelResult, type TryModelVersion } from './run-model.js';
export { decodeImage, canvasResampler } from './canvas.js';
export { preprocess } from './preprocess.js';

const keyOf = (v: TryModelVersion) => `${v.name}:${v.version}`;

function readVersions(root: HTMLElement): TryModelVersion[] {
  const text = root.querySelector('script[data-try-model-versions]')?.textContent ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TryModelError('the page carries no readable version list; reload it');
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new TryModelError('no model version to try: register one first');
  for (const v of parsed as Partial<TryModelVersion>[])
    if (typeof v?.sha256 !== 'string' || typeof v.preprocessing !== 'object' || !Array.isArray(v.inputs))
      throw new TryModelError('the page carries a version without its sha256, inputs or preprocessing; reload it');
  return parsed as TryModelVersion[];
}

function format(n: number): string {
  return Math.abs(n) >= 1000 || Number.isInteger(n) ? String(Math.round(n * 1000) / 1000) : n.toPrecision(4);
}

function render(out: HTMLElement, r: TryModelResult): void {
  const doc = out.ownerDocument;
  const line = (text: string) => {
    const p = doc.createElement('p');
    p.textContent = text;
    return p;
  };
  const parts: HTMLElement[] = [];
  if (r.kind === 'regression' && r.prediction !== null)
    parts.push(line(`Prediction: ${format(r.prediction)}${r.unit ? ` ${r.unit}` : ''}`));
  else if (r.kind === 'argmax' && r.prediction !== null) {
    parts.push(line(`Class: ${r.label ?? `#${r.prediction}`} (score ${format(r.confidence ?? NaN)})`));
    const list = doc.createElement('ol');
    list.setAttribute('aria-label', 'Scores, best first');
    for (const c of r.ranking?.slice(0, 5) ?? []) {
      const li = doc.createElement('li');
      li.textContent = `${c.label ?? `#${c.index}`}: ${format(c.score)}`;
      list.append(li);
    }
    parts.push(list);
  } else parts.push(line(`Raw outputs: ${Object.keys(r.outputs).join(', ')}`));
  if (r.resampled)
    parts.push(line('The image was resized in the browser, which filters slightly differently from a device.'));
  parts.push(line(`Preprocessing ${format(r.preprocessMs)} ms, inference ${format(r.inferenceMs)} ms.`));
  out.replaceChildren(...parts);
}

/** Wires one try-model form; returns a function that runs a file (also what a drop calls). */
export function mountTryModel(root: HTMLElement): (file: Blob) => Promise<TryModelResult | undefined> {
  const errorBox = root.querySelector<HTMLElement>('[data-try-model-error]');
  const out = root.querySelector<HTMLElement>('[data-try-model-result]');
  const select = root.querySelector<HTMLSelectElement>('select[name="version"]');
  const input = root.querySelector<HTMLInputElement>('input[type="file"]');
  const wasmPaths = root.dataset.wasmPaths ?? '/assets/ort/';
  const artifactUrl = root.dataset.artifactUrl ?? '/api/v1/artifacts/{sha256}';
  const loaded = new Map<string, Promise<BrowserModel>>();
  const state = (s: string) => (root.dataset.state = s);
  const fail = (message: string) => {
    state('error');
    if (errorBox) {
      errorBox.textContent = message;
      errorBox.hidden = false;
    }
  };

  let versions: TryModelVersion[] = [];
  try {
    versions = readVersions(root);
  } catch (err) {
    fail((err as Error).message);
  }
  if (select && select.options.length === 0)
    for (const v of versions) select.add(new Option(`${v.name} v${v.version}`, keyOf(v)));
  state('idle');

  const model = (v: TryModelVersion) => {
    let m = loaded.get(v.sha256);
    if (!m) {
      m = fetchArtifact(artifactUrl.replace('{sha256}', v.sha256), v.sha256).then((bytes) =>
        BrowserModel.load(v, bytes, { wasmPaths }),
      );
      m.catch(() => loaded.delete(v.sha256));
      loaded.set(v.sha256, m);
    }
    return m;
  };

  const runFile = async (file: Blob): Promise<TryModelResult | undefined> => {
    const version = versions.find((v) => keyOf(v) === (select?.value ?? keyOf(versions[0]!))) ?? versions[0];
    if (!version) return undefined;
    if (errorBox) errorBox.hidden = true;
    try {
      state('loading');
      const [m, image] = await Promise.all([model(version), decodeImage(file)]);
      state('running');
      const result = await m.run(image, canvasResampler);
      root.dataset.result = JSON.stringify(result);
      if (out) render(out, result);
      state('done');
      return result;
    } catch (err) {
      fail(err instanceof TryModelError ? err.message : `could not run the model: ${(err as Error).message}`);
      return undefined;
    }
  };

  const rerun = () => {
    const file = input?.files?.[0];
    if (file) void runFile(file);
  };
  input?.addEventListener('change', rerun);
  select?.addEventListener('change', rerun);
  root.addEventListener('submit', (e) => e.preventDefault());
  const zone = root.querySelector<HTMLElement>('[data-drop-zone]');
  zone?.addEventListener('dragover', (e) => e.preventDefault());
  zone?.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file) void runFile(file);
  });
  return runFile;
}

document.querySelectorAll<HTMLElement>('[data-try-model]').forEach((root) => mountTryModel(root));

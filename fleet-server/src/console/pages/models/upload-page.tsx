/**
 * @module console/pages/models/upload-page
 * Upload a model version: the ONNX file and its metadata. The browser sends the file straight to
 * the API (POST /api/v1/models, multipart) with upload progress (client/upload/model-upload.ts),
 * so a large model never passes through a page handler and the API's own checks and wording
 * answer. The defaults shown come from the metadata schema itself.
 */
import { imagePreprocessingSchema } from '@edgeloop/protocol';
import type { PageContext, PageResult } from '../../page-context.js';

/** What an image model's preprocessing becomes when only the required fields are given. */
export function preprocessingDefaults(): unknown {
  return imagePreprocessingSchema.parse({ kind: 'image', input: 'image', width: 224, height: 224 });
}

const METADATA_EXAMPLE = (): string =>
  JSON.stringify(
    {
      preprocessing: preprocessingDefaults(),
      postprocessing: { kind: 'regression', output: 'distance', unit: 'mm' },
      targets: { arch: ['arm64', 'x64'] },
      lineage: { parent: 1, trigger: 'manual' },
    },
    null,
    2,
  );

export async function uploadPage(ctx: PageContext): Promise<PageResult> {
  const { models } = await ctx.api.listModels();
  const names = [...new Set(models.map((m) => m.name))].sort();
  const allowed = ctx.can('operator');
  return {
    title: 'Upload a model',
    section: 'models',
    scripts: ['upload'],
    body: (
      <>
        <p>
          <a href="/models">← Models</a>
        </p>
        <h1>Upload a model</h1>
        <noscript>
          <p class="flash flash-error">
            Uploading from the console needs JavaScript (the file goes to the API with a progress bar). Without it, use{' '}
            <code>edgeloop models push FILE --name NAME --meta META.json</code>.
          </p>
        </noscript>
        {allowed ? null : <p class="flash flash-error">Uploading a model needs the operator role.</p>}
        <form
          class="upload-form"
          data-upload="/api/v1/models"
          data-allowed={allowed ? 'true' : 'false'}
          data-testid="upload-form"
          enctype="multipart/form-data"
        >
          <div class="grid-2">
            <div class="stack">
              <label class="field">
                Model name
                <input
                  type="text"
                  name="name"
                  required
                  maxlength={64}
                  pattern="[A-Za-z0-9_.\-]{1,64}"
                  list="model-names"
                  autocomplete="off"
                />
              </label>
              <datalist id="model-names">
                {names.map((n) => (
                  <option value={n} />
                ))}
              </datalist>
              <label class="field">
                ONNX file
                <input type="file" name="file" required accept=".onnx,application/octet-stream" />
              </label>
              <label class="field">
                Version (empty: the next one)
                <input type="number" name="version" min={1} step={1} inputmode="numeric" />
              </label>
              <label class="check">
                <input type="checkbox" name="force" value="true" /> Accept a version far above the latest
              </label>
              <label class="field">
                Description
                <textarea name="description" rows={2} maxlength={4096}></textarea>
              </label>
              <label class="field">
                Labels, one key=value per line
                <textarea name="labels" rows={3} placeholder={'team=vision\nsite=plant-1'}></textarea>
              </label>
              <label class="field">
                Metrics (JSON object of numbers)
                <textarea name="metrics" rows={2} placeholder='{"mae_mm": 12.5}'></textarea>
              </label>
            </div>
            <div class="stack">
              <label class="field">
                More metadata (JSON): inputs, outputs, preprocessing, postprocessing, targets, healthCheck,
                trainingSummary, lineage
                <textarea name="metadata" rows={14} class="mono" placeholder={METADATA_EXAMPLE()}></textarea>
              </label>
              <details>
                <summary>Defaults</summary>
                <p>
                  Without <code>preprocessing</code> the model gets raw tensors (<code>{'{"kind": "none"}'}</code>);
                  without <code>postprocessing</code> its outputs are reported raw. Inputs and outputs are read from the
                  ONNX file when not given. An image preprocessing with only the required fields becomes:
                </p>
                <pre class="mono">{JSON.stringify(preprocessingDefaults(), null, 2)}</pre>
              </details>
            </div>
          </div>
          <p class="actions">
            <button
              type="submit"
              class="primary"
              disabled
              data-upload-submit
              title={allowed ? undefined : 'needs the operator role'}
            >
              Upload
            </button>
            <progress data-testid="upload-progress" max={100} value={0} aria-label="Upload progress"></progress>
            <span class="muted" data-upload-percent></span>
          </p>
          <p data-upload-result role="status" aria-live="polite"></p>
          <p data-upload-error class="flash flash-error" role="alert" hidden></p>
        </form>
      </>
    ),
  };
}

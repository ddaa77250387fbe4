/**
 * @module console/pages/try/try-page
 * Try a model in the browser: pick a version, drop an image, and the page runs the version's
 * own artifact with onnxruntime-web (WebAssembly, in the page; nothing is uploaded), preprocessed
 * as the version's manifest says, as the agent does. Next to the output it shows what the fleet
 * recorded for the most similar inputs (nearest by the monitoring image features the agent
 * records with every prediction).
 */
import type { ModelVersionSummary } from '@edgeloop/protocol';
import { Empty } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';

/** What the page script needs of a version. */
export interface TryableVersion {
  name: string;
  version: number;
  status: string;
  sha256: string;
  artifactUrl: string;
  inputs: ModelVersionSummary['inputs'];
  outputs: ModelVersionSummary['outputs'];
  preprocessing: ModelVersionSummary['preprocessing'];
  postprocessing: ModelVersionSummary['postprocessing'];
}

export async function tryPage(ctx: PageContext): Promise<PageResult> {
  const { models } = await ctx.api.listModels();
  const tryable: TryableVersion[] = models
    .filter((m) => m.preprocessing.kind === 'image' && m.status !== 'revoked')
    .sort((a, b) => (a.name === b.name ? b.version - a.version : a.name < b.name ? -1 : 1))
    .map((m) => ({
      name: m.name,
      version: m.version,
      status: m.status,
      sha256: m.sha256,
      artifactUrl: `/api/v1/artifacts/${m.sha256}`,
      inputs: m.inputs,
      outputs: m.outputs,
      preprocessing: m.preprocessing,
      postprocessing: m.postprocessing,
    }));
  const chosen = ctx.url.searchParams.get('version');
  return {
    title: 'Try a model',
    section: 'try',
    scripts: ['try-model'],
    body: (
      <>
        <h1>Try a model in the browser</h1>
        {tryable.length === 0 ? (
          <Empty>No registered version takes an image. Upload one on the Models page.</Empty>
        ) : (
          <form
            class="grid-2"
            data-try-model
            data-wasm-paths="/console/assets/ort/"
            data-artifact-url="/api/v1/artifacts/{sha256}"
            data-telemetry-url="/api/v1/telemetry"
            data-testid="try-form"
          >
            <script
              type="application/json"
              data-try-model-versions
              dangerouslySetInnerHTML={{ __html: JSON.stringify(tryable).replace(/</g, '\\u003c') }}
            ></script>
            <section class="panel" aria-labelledby="try-input">
              <h2 id="try-input">Input</h2>
              <div class="filters">
                <label>
                  Model version
                  <select name="version" data-testid="try-version">
                    {tryable.map((v) => (
                      <option value={`${v.name}:${v.version}`} selected={chosen === `${v.name}:${v.version}`}>
                        {v.name} v{v.version} ({v.status})
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  Image
                  <input name="image" type="file" accept="image/*" data-testid="try-image" />
                </label>
              </div>
              <div class="dropzone" data-drop-zone>
                …or drop an image here
              </div>
              <p class="muted">
                The image stays in this browser: the model runs in the page with onnxruntime-web, preprocessed as the
                version's manifest says, as a device would.
              </p>
              <noscript>This page runs the model with JavaScript; enable it to try a model.</noscript>
            </section>
            <section class="panel" aria-labelledby="try-output">
              <h2 id="try-output">Output</h2>
              <p role="alert" class="flash flash-error" data-try-model-error hidden></p>
              <output data-try-model-result aria-live="polite" data-testid="try-result">
                Choose an image.
              </output>
              <h3>What the fleet recorded for similar inputs</h3>
              <div data-try-similar data-testid="try-similar" class="table-wrap">
                <p class="muted">
                  After a run: recorded predictions (with reference values) of this version whose input features are
                  nearest to this image's.
                </p>
              </div>
            </section>
          </form>
        )}
      </>
    ),
  };
}

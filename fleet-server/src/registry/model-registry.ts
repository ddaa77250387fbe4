/**
 * @module registry/model-registry
 * Registering a model version: inspect the ONNX file, build its manifest (tensor spec from the
 * model itself unless metadata overrides it), sign it, store artifact and manifest. Version
 * numbers only go up per name: that counter is what agents use to refuse replays.
 *
 * The manifest also carries per-chunk sha256 hashes of the artifact (agents verify and resume
 * downloads chunk by chunk) and, when the uploader gives one, a health check of golden
 * input → output pairs that a device runs before letting the version serve.
 *
 * Manifests are signed by whatever key is active when signing (keys/key-manager.ts). A version
 * can be re-signed (same version, same artifact, new created/expires and signature: expiry, key
 * rotation) and re-released (a new version number carrying an older version's artifact: how a
 * rollback reaches devices that refuse older version numbers). Status and lineage live in
 * registry/model-status.ts.
 */
import {
  ARCHES,
  MANIFEST_SCHEMA,
  chooseChunkSize,
  chunkHashes,
  describeZodError,
  isValidId,
  manifestSchema,
  MAX_MODEL_VERSION,
  imageTensorShape,
  shapeMatches,
  signManifest,
  signedEnvelopeSchema,
  type Manifest,
  type ModelLineage,
} from '@edgeloop/protocol';
import { lineageSchema, modelMetadataSchema } from '@edgeloop/protocol/rest';
import { inspectOnnx, NotAnOnnxModelError, type InspectedModel } from '@edgeloop/models';
import type { FleetSigningKey } from '../keys/signing-key.js';
import type { ModelVersionRecord, ModelVersionRepository, NewModelVersion } from '../store/fleet-store.js';
import type { BlobStore, StagedArtifact } from '../store/blobs/blob-store.js';

export type ModelVersionRow = ModelVersionRecord;

export class RegistryError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The registry's check that a file is a model it can register: a decodable ONNX graph. Trainer
 * outputs go through the same check, so a run is judged by the rule its model will meet.
 */
export function inspectModelFile(bytes: Uint8Array): InspectedModel {
  try {
    return inspectOnnx(bytes);
  } catch (err) {
    if (err instanceof NotAnOnnxModelError) throw new RegistryError(400, `${err.message}; upload an .onnx file`);
    throw err;
  }
}

/** How far above the latest version an explicit version may jump without `force`. */
export const DEFAULT_MAX_VERSION_JUMP = 1000;

export interface RegisterRequest {
  name: string;
  version?: number;
  /** The model file: in memory, or an upload already written to the artifact store's staging area. */
  bytes: Uint8Array | StagedArtifact;
  metadata?: unknown;
  /** Accept a version more than maxVersionJump above the latest (a deliberate renumbering). */
  force?: boolean;
}

export interface RegistryOptions {
  /** See DEFAULT_MAX_VERSION_JUMP; a bigger jump needs `force`. */
  maxVersionJump?: number;
  /**
   * Lineage ids must name real entities: a dataset snapshot and a training run the server knows
   * (training/lineage-check.ts). Returns why a lineage is refused, or undefined when it holds.
   */
  checkLineage?: (lineage: ModelLineage) => Promise<string | undefined>;
}

export class ModelRegistry {
  private readonly signer: () => FleetSigningKey | Promise<FleetSigningKey>;
  readonly maxVersionJump: number;
  private readonly checkLineage: RegistryOptions['checkLineage'];

  constructor(
    private readonly store: ModelVersionRepository,
    private readonly artifacts: BlobStore,
    /** The key to sign with, or how to get the active one at signing time (rotation). */
    key: FleetSigningKey | (() => FleetSigningKey | Promise<FleetSigningKey>),
    readonly manifestTtlMs: number,
    options: RegistryOptions = {},
  ) {
    this.signer = typeof key === 'function' ? key : () => key;
    this.maxVersionJump = options.maxVersionJump ?? DEFAULT_MAX_VERSION_JUMP;
    this.checkLineage = options.checkLineage;
  }

  async register(req: RegisterRequest, now = new Date()): Promise<ModelVersionRow> {
    if (!isValidId(req.name))
      throw new RegistryError(400, `invalid model name "${req.name}": use 1-64 characters from A-Z a-z 0-9 _ . -`);
    const staged = req.bytes instanceof Uint8Array ? undefined : req.bytes;
    if ((staged ? staged.size : (req.bytes as Uint8Array).length) === 0)
      throw new RegistryError(400, 'the uploaded model file is empty');
    const meta = modelMetadataSchema.safeParse(req.metadata ?? {});
    if (!meta.success) throw new RegistryError(400, `invalid metadata: ${describeZodError(meta.error)}`);
    const version = await this.checkedVersion(req);

    // Decoding the ONNX protobuf needs the whole file; an upload is read back from disk only now,
    // after everything cheaper was checked.
    const bytes = staged ? this.artifacts.read(staged) : (req.bytes as Uint8Array);
    const inspected = inspectModelFile(bytes);

    const m = meta.data;
    if (
      m.lineage?.parent !== undefined &&
      (m.lineage.parent >= version || !(await this.store.get(req.name, m.lineage.parent)))
    ) {
      throw new RegistryError(
        400,
        `lineage.parent v${m.lineage.parent} is not an earlier registered version of ${req.name}; name an existing version (edgeloop models list)`,
      );
    }
    const refused = m.lineage && this.checkLineage ? await this.checkLineage(m.lineage) : undefined;
    if (refused) throw new RegistryError(400, refused);
    // Before anything is stored: without an active key (offline root not yet signed) nothing can be.
    const key = await this.signer();
    const candidate = {
      schema: MANIFEST_SCHEMA as typeof MANIFEST_SCHEMA,
      name: req.name,
      version,
      artifact: { sha256: '', size: bytes.length, mediaType: 'application/onnx' as const },
      created: now.toISOString(),
      expires: new Date(now.getTime() + this.manifestTtlMs).toISOString(),
      targets: { arch: m.targets?.arch ?? [...ARCHES], hardware: m.targets?.hardware ?? [] },
      inputs: m.inputs ?? inspected.inputs,
      outputs: m.outputs ?? inspected.outputs,
      ...(m.preprocessing ? { preprocessing: m.preprocessing } : {}),
      ...(m.postprocessing ? { postprocessing: m.postprocessing } : {}),
      ...(m.healthCheck ? { healthCheck: m.healthCheck } : {}),
      // Devices detect drift against these while offline (agent monitoring).
      ...(m.trainingSummary ? { baseline: m.trainingSummary } : {}),
      ...(m.metrics?.validation_mae !== undefined ? { validationMae: m.metrics.validation_mae } : {}),
    };
    this.checkConsistency(
      candidate,
      inspected.inputs.map((i) => i.name),
      inspected.outputs.map((o) => o.name),
    );

    const { sha256, size } = staged ? await this.artifacts.adopt(staged) : await this.artifacts.put(bytes);
    candidate.artifact.sha256 = sha256;
    const chunkSize = chooseChunkSize(size);
    const artifact = {
      ...candidate.artifact,
      ...(chunkSize ? { chunkSize, chunks: chunkHashes(bytes, chunkSize) } : {}),
    };
    const parsed = manifestSchema.safeParse({ ...candidate, artifact });
    if (!parsed.success) throw new RegistryError(400, `manifest would be invalid: ${describeZodError(parsed.error)}`);
    const manifest = this.withinEnvelope(parsed.data, key);
    const envelope = this.sign(manifest, key);
    const row: NewModelVersion = {
      name: req.name,
      version,
      sha256,
      size,
      envelope,
      manifest,
      keyId: key.keyId,
      createdAt: now.getTime(),
      description: m.description ?? null,
      labels: m.labels ?? {},
      metrics: m.metrics ?? {},
      trainingSummary: m.trainingSummary ?? null,
      lineage: m.lineage ?? {},
    };
    return this.insert(row);
  }

  /**
   * The version a push gets. Only upward, within MAX_MODEL_VERSION, and (unless forced) not more
   * than maxVersionJump above the latest: one mistyped number would otherwise leave the name a
   * version devices hold on to, refusing every lower one, with no room to go up.
   */
  private async checkedVersion(req: Pick<RegisterRequest, 'name' | 'version' | 'force'>): Promise<number> {
    const latest = await this.store.latestVersion(req.name);
    const current = latest === 0 ? 'no version is registered yet' : `the latest is v${latest}`;
    if (req.version === undefined) return this.nextVersion(req.name, latest);
    const version = req.version;
    if (!Number.isInteger(version) || version < 1 || version > MAX_MODEL_VERSION) {
      throw new RegistryError(400, `version must be a whole number from 1 to ${MAX_MODEL_VERSION}, got ${version}`);
    }
    if (version <= latest) {
      throw new RegistryError(
        409,
        `${req.name} v${version} is not newer than the latest registered v${latest}; versions only go up (agents refuse older ones) — omit --version to get v${latest + 1}`,
      );
    }
    if (version - latest > this.maxVersionJump && !req.force) {
      throw new RegistryError(
        409,
        `${req.name} v${version} is ${version - latest} above the current version (${current}); more than ${this.maxVersionJump} is refused as a likely typo, ` +
          `because devices then refuse every lower version. Omit --version to get v${latest + 1}, or push with --force (API field force=true) if the jump is meant`,
      );
    }
    return version;
  }

  private async nextVersion(name: string, known?: number): Promise<number> {
    const latest = known ?? (await this.store.latestVersion(name));
    if (latest >= MAX_MODEL_VERSION)
      throw new RegistryError(
        409,
        `${name} is at v${latest}, the highest allowed version (${MAX_MODEL_VERSION}); register the model under a new name`,
      );
    return latest + 1;
  }

  /**
   * Signs the version's manifest again with the active key: same version and artifact, fresh
   * created/expires. Devices running it swap in the new envelope without reloading the model.
   */
  async resign(name: string, version: number, now = new Date()): Promise<ModelVersionRow> {
    const row = await this.store.get(name, version);
    if (!row) throw new RegistryError(404, `no model ${name} v${version}`);
    const key = await this.signer();
    const manifest = manifestSchema.parse({
      ...row.manifest,
      created: now.toISOString(),
      expires: new Date(now.getTime() + this.manifestTtlMs).toISOString(),
    });
    await this.store.replaceEnvelope(name, version, this.sign(manifest, key), manifest, key.keyId, now.getTime());
    return (await this.store.get(name, version))!;
  }

  /**
   * A new version (latest + 1) with an older version's artifact, manifest contents and metadata:
   * devices never accept a lower version number, so going back means releasing the old model
   * forward. Lineage records where it came from (parent = fromVersion unless given).
   */
  async rerelease(
    name: string,
    fromVersion: number,
    lineage: ModelLineage = {},
    now = new Date(),
  ): Promise<ModelVersionRow> {
    const from = await this.store.get(name, fromVersion);
    if (!from) throw new RegistryError(404, `no model ${name} v${fromVersion} to re-release`);
    // A revoked version was judged unfit to run anywhere: no path (rollback included) brings it back.
    if (from.status === 'revoked')
      throw new RegistryError(409, `${name} v${fromVersion} is revoked and is not re-released; deploy another version`);
    const parsedLineage = lineageSchema.safeParse({ parent: fromVersion, trigger: 'rollback', ...lineage });
    if (!parsedLineage.success)
      throw new RegistryError(400, `invalid lineage: ${describeZodError(parsedLineage.error)}`);
    const version = await this.nextVersion(name);
    const manifest = manifestSchema.parse({
      ...from.manifest,
      version,
      created: now.toISOString(),
      expires: new Date(now.getTime() + this.manifestTtlMs).toISOString(),
    });
    const key = await this.signer();
    return this.insert({
      name,
      version,
      sha256: from.sha256,
      size: from.size,
      envelope: this.sign(manifest, key),
      manifest,
      keyId: key.keyId,
      createdAt: now.getTime(),
      description: from.description,
      labels: from.labels,
      metrics: from.metrics,
      trainingSummary: from.trainingSummary,
      lineage: parsedLineage.data,
    });
  }

  /**
   * The manifest without its baseline when the baseline would push it past the envelope limit
   * (up to 64 features × 256 bins): the version still deploys, its devices just run no
   * baseline detectors (they say so in /v1/health).
   */
  private withinEnvelope(manifest: Manifest, key: FleetSigningKey): Manifest {
    if (!manifest.baseline || signedEnvelopeSchema.safeParse(signManifest(manifest, key)).success) return manifest;
    const { baseline: _omitted, ...rest } = manifest;
    return rest;
  }

  private sign(manifest: Manifest, key: FleetSigningKey) {
    const envelope = signManifest(manifest, key);
    if (!signedEnvelopeSchema.safeParse(envelope).success) {
      throw new RegistryError(
        413,
        'the signed manifest would exceed the 256 KiB envelope limit devices accept; make the healthCheck tensors smaller',
      );
    }
    return envelope;
  }

  private async insert(row: NewModelVersion): Promise<ModelVersionRow> {
    // Two uploads raced for the same version number: the second one is refused.
    if (!(await this.store.insert(row))) throw new RegistryError(409, `${row.name} v${row.version} already exists`);
    return (await this.store.get(row.name, row.version))!;
  }

  private checkConsistency(
    m: Pick<Manifest, 'inputs' | 'outputs'> &
      Partial<Pick<Manifest, 'preprocessing' | 'postprocessing' | 'healthCheck'>>,
    modelInputs: string[],
    modelOutputs: string[],
  ): void {
    const missing = [
      ...m.inputs.filter((i) => !modelInputs.includes(i.name)).map((i) => `input "${i.name}"`),
      ...m.outputs.filter((o) => !modelOutputs.includes(o.name)).map((o) => `output "${o.name}"`),
    ];
    if (missing.length) {
      throw new RegistryError(
        400,
        `metadata names ${missing.join(', ')} which the model does not have (inputs: ${modelInputs.join(', ')}; outputs: ${modelOutputs.join(', ')})`,
      );
    }
    const pre = m.preprocessing;
    if (pre?.kind === 'image') {
      const input = m.inputs.find((i) => i.name === pre.input);
      if (!input)
        throw new RegistryError(
          400,
          `preprocessing.input "${pre.input}" is not a model input (${m.inputs.map((i) => i.name).join(', ')})`,
        );
      // Caught here, not on every device at the first request.
      const produced = imageTensorShape(pre);
      if (!shapeMatches(input.shape, produced)) {
        throw new RegistryError(
          400,
          `preprocessing makes input "${input.name}" [${produced.join(', ')}] (${pre.layout}, ${pre.colorOrder}, ${pre.width}×${pre.height}), but the model takes [${input.shape.join(', ')}]; ` +
            'set preprocessing width/height/layout/colorOrder to match',
        );
      }
    }
    const post = m.postprocessing;
    if (post && post.kind !== 'raw' && !m.outputs.some((o) => o.name === post.output)) {
      throw new RegistryError(
        400,
        `postprocessing.output "${post.output}" is not a model output (${m.outputs.map((o) => o.name).join(', ')})`,
      );
    }
    const check = m.healthCheck;
    if (check) {
      // The device feeds every input the manifest declares, so the golden inputs must cover them.
      const noGolden = m.inputs.filter((i) => !(i.name in check.inputs)).map((i) => i.name);
      const unknownIn = Object.keys(check.inputs).filter((n) => !m.inputs.some((i) => i.name === n));
      const unknownOut = Object.keys(check.outputs).filter((n) => !m.outputs.some((o) => o.name === n));
      if (noGolden.length || unknownIn.length || unknownOut.length) {
        throw new RegistryError(
          400,
          `healthCheck does not fit the model: inputs without golden data [${noGolden.join(', ')}], unknown inputs [${unknownIn.join(', ')}], ` +
            `unknown outputs [${unknownOut.join(', ')}] (inputs: ${m.inputs.map((i) => i.name).join(', ')}; outputs: ${m.outputs.map((o) => o.name).join(', ')})`,
        );
      }
      for (const spec of m.inputs) {
        const golden = check.inputs[spec.name]!;
        if (!shapeMatches(spec.shape, golden.shape)) {
          throw new RegistryError(
            400,
            `healthCheck input "${spec.name}" has shape [${golden.shape.join(', ')}], the model takes [${spec.shape.join(', ')}]`,
          );
        }
      }
    }
  }
}

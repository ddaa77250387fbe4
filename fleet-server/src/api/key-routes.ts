/**
 * @module api/key-routes
 * GET /api/v1/keys: root key, active signing key, keyset version, pending rotation, retired keys.
 * POST /api/v1/keys/rotate: with a local root the rotation completes (200, state "done"); with an
 * offline root the server answers 202 with the pending keyset to sign (state "pending").
 * POST /api/v1/keys/keyset {envelope}: the pending keyset signed by the offline root; verified
 * against the root public key, then the key is activated and manifests re-signed.
 */
import { Hono } from 'hono';
import { describeZodError } from '@edgeloop/protocol';
import { keysetUploadSchema } from '@edgeloop/protocol/rest';
import type { KeyManager } from '../keys/key-manager.js';
import type { KeyRotation } from '../keys/rotation.js';
import { RegistryError } from '../registry/model-registry.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';

export function keyRoutes(deps: { keys: KeyManager; rotation: KeyRotation }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/keys', async (c) => c.json(await deps.keys.view()));

  app.post('/keys/rotate', async (c) => {
    const result = await deps.rotation.rotate(actorOf(c));
    return c.json(result, result.state === 'pending' ? 202 : 200);
  });

  app.post('/keys/keyset', async (c) => {
    const body = await readJsonObject(c, {
      example:
        '{"envelope": <the pending keyset signed with the root key>} ("edgeloop keys rotate --root-key FILE" does this)',
    });
    const parsed = keysetUploadSchema.safeParse(body);
    if (!parsed.success)
      throw new RegistryError(
        400,
        `invalid keyset upload: ${describeZodError(parsed.error)}; "edgeloop keys rotate --root-key FILE" builds it`,
      );
    return c.json(await deps.rotation.complete(actorOf(c), parsed.data.envelope));
  });

  return app;
}

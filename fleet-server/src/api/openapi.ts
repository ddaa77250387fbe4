/**
 * @module api/openapi
 * The OpenAPI 3.1 document of the REST API, served at GET /api/v1/openapi.json (no auth),
 * generated from the route table in protocol (protocol/src/rest/routes.ts): paths, parameters,
 * bodies and answers are the zod schemas the server validates with and its answers are checked
 * against, converted with z.toJSONSchema, so the document cannot drift from the code.
 *
 * Schemas with a meta id (`Device`, `ModelVersion`, …) become components. Where a request and an
 * answer share a schema whose two sides differ (defaults: optional in a request, always present
 * in an answer), the request side is named `<id>Input`. Answers may gain fields over time, so
 * their objects do not forbid additional properties.
 *
 * Each non-public operation names the least role its admin token needs in `x-edgeloop-role`
 * (and in a sentence of its description); a session cookie of the console stands for a token.
 */
import { z } from 'zod';
import type { RawResponse, RouteSpec } from '@edgeloop/protocol';
import {
  errorResponseSchema,
  errorStatuses,
  isMultipartBody,
  isRawResponse,
  modelMetadataSchema,
  ROLE_PURPOSE,
  routeRole,
  SESSION_COOKIE,
  modelUploadSchema,
  REST_ROUTES,
  uploadFileSchema,
} from '@edgeloop/protocol/rest';

type Schema = Record<string, unknown>;
type Io = 'input' | 'output';

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid request: the body or query says what is wrong',
  401: 'missing or wrong credentials: the body says what to send',
  403: "refused: the token's role is too low, a CSRF token is missing, or (artifacts) not this device's",
  404: 'no such resource',
  409: 'conflicts with the current state',
  413: 'body too large',
  415: 'wrong content type',
  416: 'range not satisfiable',
  500: 'internal error',
};

const COMPONENT_PREFIX = '#/components/schemas/';

/** JSON Schema of zod schemas; ids collected per side, refs marked `<io>:<id>` until names are settled. */
class SchemaCollector {
  private readonly defs: Record<Io, Map<string, Schema>> = { input: new Map(), output: new Map() };

  convert(schema: z.ZodType, io: Io): Schema {
    const json = z.toJSONSchema(schema, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      override: (ctx) => adjust(ctx, io),
    }) as Schema;
    const { $schema: _dialect, $defs, ...rest } = json;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, Schema>))
      this.defs[io].set(id, markRefs(def, io));
    return markRefs(rest, io);
  }

  /** Component names per side, and the components themselves. */
  settle(): { names: Record<Io, Map<string, string>>; schemas: Record<string, Schema> } {
    const names: Record<Io, Map<string, string>> = { input: new Map(), output: new Map() };
    const schemas: Record<string, Schema> = {};
    for (const [id, def] of this.defs.output) {
      names.output.set(id, id);
      schemas[id] = def;
    }
    for (const [id, def] of this.defs.input) {
      const output = this.defs.output.get(id);
      // Same JSON apart from the side its own refs point to: one component serves both.
      const same =
        output !== undefined && JSON.stringify(def).replaceAll('"input:', '"output:') === JSON.stringify(output);
      const name = output === undefined || same ? id : `${id}Input`;
      names.input.set(id, name);
      if (!same) schemas[name] = def;
    }
    return { names, schemas };
  }
}

function adjust(ctx: { zodSchema: unknown; jsonSchema: Schema }, io: Io): void {
  if (ctx.zodSchema === uploadFileSchema)
    Object.assign(ctx.jsonSchema, { type: 'string', contentMediaType: 'application/octet-stream' });
  if (ctx.zodSchema === modelUploadSchema.shape.metadata.unwrap()) {
    Object.assign(ctx.jsonSchema, {
      contentMediaType: 'application/json',
      contentSchema: { $ref: '#/$defs/ModelMetadata' },
    });
  }
  // Integers are bounded by JSON's safe range anyway; saying so on every field is noise.
  if (ctx.jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete ctx.jsonSchema.minimum;
  if (ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete ctx.jsonSchema.maximum;
  // zod closes every object of an answer; only explicitly strict ones are closed here.
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; catchall?: unknown } } })._zod?.def;
  if (
    io === 'output' &&
    def?.type === 'object' &&
    def.catchall === undefined &&
    ctx.jsonSchema.additionalProperties === false
  ) {
    delete ctx.jsonSchema.additionalProperties;
  }
}

function markRefs(schema: Schema, io: Io): Schema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', `"${COMPONENT_PREFIX}${io}:`)) as Schema;
}

function rawContent(r: RawResponse): Schema {
  if (r.raw === '') return { description: r.description };
  const binary =
    r.raw === 'text/html' || r.raw === 'text/plain'
      ? {}
      : { schema: { type: 'string', contentMediaType: 'application/octet-stream' } };
  return {
    description: r.description,
    ...(r.headers ? { headers: Object.fromEntries(r.headers.map((h) => [h, { schema: { type: 'string' } }])) } : {}),
    content: { [r.raw]: binary },
  };
}

function parameters(spec: RouteSpec, schemas: SchemaCollector): Schema[] {
  const list: Schema[] = [];
  for (const [where, object] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!object) continue;
    const json = schemas.convert(object, 'output') as { properties?: Record<string, Schema>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      list.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return list;
}

function operation(name: string, spec: RouteSpec, schemas: SchemaCollector): Schema {
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(spec.responses)) {
    responses[status] = isRawResponse(answer)
      ? rawContent(answer)
      : { description: 'OK', content: { 'application/json': { schema: schemas.convert(answer, 'output') } } };
  }
  for (const status of errorStatuses(spec)) {
    responses[status] = {
      description: ERROR_TEXT[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: `${COMPONENT_PREFIX}output:Error` } } },
    };
  }
  const params = parameters(spec, schemas);
  const body = spec.body
    ? isMultipartBody(spec.body)
      ? { 'multipart/form-data': { schema: schemas.convert(spec.body.multipart, 'input') } }
      : { 'application/json': { schema: schemas.convert(spec.body, 'input') } }
    : undefined;
  const role = routeRole(spec);
  return {
    tags: [spec.tag],
    summary: spec.summary,
    ...(role
      ? {
          description: `Needs an admin token with the ${role} role or higher (${role}: ${ROLE_PURPOSE[role]}).`,
          'x-edgeloop-role': role,
        }
      : {}),
    operationId: name,
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { required: !spec.bodyOptional, content: body } } : {}),
    responses,
    security:
      spec.auth === 'public'
        ? []
        : spec.auth === 'admin'
          ? [{ admin: [] }, { session: [] }]
          : [{ device: [] }, { admin: [] }, { session: [] }],
  };
}

/** The whole document; `version` is the server's. */
export function buildOpenApiDocument(serverVersion: string): Record<string, unknown> {
  const schemas = new SchemaCollector();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(REST_ROUTES) as Array<[string, RouteSpec]>) {
    (paths[spec.path] ??= {})[spec.method.toLowerCase()] = operation(name, spec, schemas);
  }
  // Referred to by every error answer and by the upload's metadata field, not reached from a route's schemas.
  schemas.convert(errorResponseSchema, 'output');
  schemas.convert(modelMetadataSchema, 'input');
  const { names, schemas: components } = schemas.settle();
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'EdgeLoop fleet server',
      version: serverVersion,
      description:
        'Devices, enrollment, models (registry, lineage, signing keys), rollouts, telemetry and the audit log. Errors are JSON {"error": reason} saying what to do next. ' +
        'Admin tokens have a role, viewer < operator < admin: each operation names the least one it needs in x-edgeloop-role (by default GET needs viewer, any other method operator). ' +
        'The console logs in with POST /api/v1/sessions and then sends its session cookie instead of the token; with the cookie, every POST, PUT and DELETE must carry the x-csrf-token header.',
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        admin: {
          type: 'http',
          scheme: 'bearer',
          description:
            'an admin token (the first is written to <data>/admin.token on first start; edgeloop admin-tokens create makes more)',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description:
            'the console session cookie from POST /api/v1/sessions; acts as its admin token; POST, PUT and DELETE also need the x-csrf-token header',
        },
        device: {
          type: 'http',
          scheme: 'basic',
          description: 'device credentials from enrollment (deviceId:password); artifact downloads only',
        },
      },
    },
    security: [{ admin: [] }],
  };
  const text = JSON.stringify(document).replace(
    /"#\/components\/schemas\/(input|output):([^"]+)"/g,
    (_m, io: Io, id: string) => {
      const name = names[io].get(id);
      if (name === undefined) throw new Error(`OpenAPI: no component ${id} for the ${io} side`);
      return JSON.stringify(`${COMPONENT_PREFIX}${name}`);
    },
  );
  return JSON.parse(text) as Record<string, unknown>;
}

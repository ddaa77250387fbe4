/**
 * @module api/response-contract
 * Checks every answer of the API against the route table (protocol/src/rest/routes.ts): a JSON
 * answer must parse with its route's schema for that status and carry no field the schema does
 * not declare; a raw answer must have the declared content type; every 4xx/5xx must be
 * `{"error": reason}` with a status the route declares. An answer that does not is replaced by
 * a 500 naming the route and the field, and reported to `onViolation`.
 *
 * Opt-in (server option `validateResponses`, env EDGELOOP_VALIDATE_RESPONSES=1): the test
 * servers turn it on, so every answer an integration test receives is checked, and a drift
 * between the server and the contract fails the test that hit it.
 */
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { describeZodError, type RouteSpec } from '@edgeloop/protocol';
import { describeRoute, errorResponseSchema, errorStatuses, isRawResponse, REST_ROUTES } from '@edgeloop/protocol/rest';
import type { ApiEnv } from './api-env.js';

export interface ContractViolation {
  /** `GET /api/v1/devices (listDevices)`, or the request line when no route matches. */
  route: string;
  path: string;
  status: number;
  problem: string;
}

interface CompiledRoute {
  name: string;
  spec: RouteSpec;
  pattern: RegExp;
}

function compile(): CompiledRoute[] {
  const routes = (Object.entries(REST_ROUTES) as Array<[string, RouteSpec]>).map(([name, spec]) => ({
    name,
    spec,
    params: (spec.path.match(/\{/g) ?? []).length,
    pattern: new RegExp(
      `^${spec.path
        .split(/\{[^}]+\}/)
        .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
        .join('[^/]+')}$`,
    ),
  }));
  // A literal segment wins over a parameter in the same place.
  return routes.sort((a, b) => a.params - b.params);
}

const ROUTES = compile();

export function findRoute(method: string, path: string): CompiledRoute | undefined {
  return ROUTES.find((r) => r.spec.method === method && r.pattern.test(path));
}

/** Dotted paths of fields the answer carries and the schema's output dropped (not declared). */
export function undeclaredFields(sent: unknown, parsed: unknown, at: string[] = []): string[] {
  if (Array.isArray(sent) && Array.isArray(parsed))
    return sent.flatMap((v, i) => undeclaredFields(v, parsed[i], [...at, String(i)]));
  if (typeof sent !== 'object' || sent === null || typeof parsed !== 'object' || parsed === null) return [];
  const out = parsed as Record<string, unknown>;
  return Object.entries(sent).flatMap(([key, value]) =>
    key in out ? undeclaredFields(value, out[key], [...at, key]) : [[...at, key].join('.')],
  );
}

async function jsonProblem(res: Response, check: (body: unknown) => string | undefined): Promise<string | undefined> {
  if (!/^application\/(?:[a-z0-9.+-]+\+)?json/.test(res.headers.get('content-type') ?? ''))
    return `content-type is "${res.headers.get('content-type') ?? 'none'}", not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(await res.clone().text());
  } catch {
    return 'the body is not JSON';
  }
  return check(body);
}

function schemaProblem(schema: z.ZodType, body: unknown): string | undefined {
  const parsed = schema.safeParse(body);
  if (!parsed.success) return describeZodError(parsed.error);
  const extra = undeclaredFields(body, parsed.data);
  return extra.length
    ? `fields the contract does not declare: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}`
    : undefined;
}

/** What is wrong with an answer to `method path`, or undefined when it keeps the contract. */
export async function contractProblem(
  method: string,
  path: string,
  res: Response,
): Promise<{ route: string; problem: string } | undefined> {
  const found = findRoute(method, path);
  const route = found ? describeRoute(found.name, found.spec) : `${method} ${path} (no route)`;
  const failed = (problem: string | undefined) => (problem === undefined ? undefined : { route, problem });
  if (res.status >= 400) {
    if (found && !errorStatuses(found.spec).includes(res.status))
      return failed(
        `status ${res.status} is not among the route's error statuses (${errorStatuses(found.spec).join(', ')})`,
      );
    return failed(await jsonProblem(res, (body) => schemaProblem(errorResponseSchema, body)));
  }
  if (!found) return failed(`answered ${res.status} but the route table has no ${method} route for this path`);
  const answer = found.spec.responses[res.status];
  if (answer === undefined)
    return failed(
      `status ${res.status} is not among the route's answers (${Object.keys(found.spec.responses).join(', ')})`,
    );
  if (isRawResponse(answer)) {
    const type = res.headers.get('content-type') ?? '';
    return answer.raw === '*/*' || type.startsWith(answer.raw)
      ? undefined
      : failed(`content-type is "${type}", the route answers ${answer.raw}`);
  }
  return failed(await jsonProblem(res, (body) => schemaProblem(answer, body)));
}

/** Installed first, so it sees every answer: the routes', the auth and body-limit refusals, 404s and 500s. */
export function responseContract(onViolation: (violation: ContractViolation) => void): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method === 'HEAD') return;
    const found = await contractProblem(c.req.method, c.req.path, c.res);
    if (!found) return;
    const violation: ContractViolation = { ...found, path: c.req.path, status: c.res.status };
    onViolation(violation);
    // Unset first: Hono would copy the refused answer's headers (content-length, range) onto this one.
    c.res = undefined;
    c.res = c.json(
      {
        error: `answer outside the API contract: ${violation.route} answered ${violation.status}: ${violation.problem}`,
      },
      500,
    );
  };
}

/**
 * @module client/rest-client
 * The typed client of the fleet server's REST API, derived from the route table: one method per
 * route (`client.listDevices({ query: { group: 'site-a' } })`), arguments and results typed from
 * the schemas, every answer validated against its route's schema before it is returned.
 *
 * It runs wherever fetch does (browser, Node): no node:* module. `fetch` is injectable, so a
 * Node caller can pin a private CA (protocol's fetchWithCa) or a test can watch the requests.
 */
import { describeZodError } from '../errors.js';
import { describeRoute, isMultipartBody, isRawResponse, type RouteSpec } from '../rest/route-spec.js';
import { REST_ROUTES, ROUTE_NAMES, type RouteName } from '../rest/routes.js';
import { RestContractError, RestError, RestNetworkError } from './client-errors.js';
import type { CallOptions, RestClient } from './route-types.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RestClientOptions {
  /** e.g. https://fleet.example:8460 (a path prefix is kept). */
  baseUrl: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Sent with every call, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Per call unless a call says otherwise; default: no timeout. */
  timeoutMs?: number;
}

interface CallInput {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

export function createRestClient(options: RestClientOptions): RestClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const methods = Object.fromEntries(
    ROUTE_NAMES.map((name) => [
      name,
      (input: CallInput = {}, callOptions: CallOptions = {}) =>
        callRoute(name, input, callOptions, { ...options, baseUrl }),
    ]),
  );
  return { baseUrl, ...methods } as RestClient;
}

/** `/api/v1/devices/{id}` with `{id: 'pi 1'}` → `/api/v1/devices/pi%201`. */
export function fillPath(path: string, params: Record<string, unknown> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_m, key: string) => {
    const value = params[key];
    if (value === undefined || value === null || value === '')
      throw new TypeError(`path parameter "${key}" of ${path} is missing`);
    return encodeURIComponent(String(value));
  });
}

/** Query values as the server's schema reads them: numbers in decimal, flags as true/false, arrays repeated. */
export function queryString(query: Record<string, unknown> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  return params.size > 0 ? `?${params}` : '';
}

function requestBody(spec: RouteSpec, body: unknown): { body?: BodyInit; contentType?: string } {
  if (spec.body === undefined || body === undefined) return {};
  if (!isMultipartBody(spec.body)) return { body: JSON.stringify(body), contentType: 'application/json' };
  const form = new FormData();
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (value instanceof Blob)
      form.append(key, value, typeof File !== 'undefined' && value instanceof File ? value.name : key);
    else form.append(key, String(value));
  }
  // fetch sets the multipart content type with its boundary.
  return { body: form };
}

function timeoutSignal(options: CallOptions, defaults: RestClientOptions): AbortSignal | undefined {
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  const signals = [options.signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function errorReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { error } = body as { error?: unknown };
  return typeof error === 'string' && error.length > 0 ? error : undefined;
}

async function callRoute(
  name: RouteName,
  input: CallInput,
  options: CallOptions,
  defaults: RestClientOptions,
): Promise<unknown> {
  const spec: RouteSpec = REST_ROUTES[name];
  const route = describeRoute(name, spec);
  const { body, contentType } = requestBody(spec, input.body);
  const signal = timeoutSignal(options, defaults);
  const init: RequestInit = {
    method: spec.method,
    headers: {
      accept: 'application/json',
      ...defaults.headers,
      ...(contentType ? { 'content-type': contentType } : {}),
      ...options.headers,
    },
    ...(body !== undefined ? { body } : {}),
    ...(signal ? { signal } : {}),
  };
  const url = `${defaults.baseUrl}${fillPath(spec.path, input.params)}${queryString(input.query)}`;
  let response: Response;
  let text: string;
  try {
    response = await (defaults.fetch ?? fetch)(url, init);
    const answer = spec.responses[response.status];
    if (response.ok && answer !== undefined && isRawResponse(answer)) return response;
    // Inside the try: a server that dies mid-answer gave no answer.
    text = await response.text();
  } catch (error) {
    throw new RestNetworkError(route, error);
  }
  const json = parseJson(text);
  if (!response.ok)
    throw new RestError(
      route,
      response.status,
      errorReason(json) ?? (response.statusText || 'request failed'),
      json === NOT_JSON ? text : json,
    );
  const answer = spec.responses[response.status];
  if (answer === undefined) {
    throw new RestContractError(
      route,
      response.status,
      `status ${response.status} is not one the route answers (${Object.keys(spec.responses).join(', ')})`,
      'status',
    );
  }
  if (isRawResponse(answer)) return response;
  if (json === NOT_JSON) throw new RestContractError(route, response.status, 'the body is not JSON', 'not-json');
  const parsed = answer.safeParse(json);
  if (!parsed.success) throw new RestContractError(route, response.status, describeZodError(parsed.error), 'schema');
  return parsed.data;
}

/**
 * @module rest/route-spec
 * What a REST route declares: method, path, who may call it, path parameters, query, body and
 * the answer per status. The route table (rest/routes.ts) is a list of these; the server checks
 * its answers against it, the OpenAPI document is generated from it, and the typed client
 * (`@edgeloop/protocol/client`) derives its methods, argument and result types from it.
 */
import type { z } from 'zod';
import type { AdminRole } from './roles.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * admin: an admin token (`Authorization: Bearer <admin token>`, or the console's session cookie);
 * device-or-admin: also HTTP Basic device credentials. Which role the token needs: `RouteSpec.role`.
 */
export type RouteAuth = 'admin' | 'public' | 'device-or-admin';

/** An answer that is not a JSON document: handed to the caller as the fetch Response. */
export interface RawResponse {
  readonly raw: string;
  readonly description: string;
  /** Response headers worth documenting, e.g. content-range. */
  readonly headers?: readonly string[];
}

/** A multipart/form-data body: text fields and Blob fields. */
export interface MultipartBody<S extends z.ZodObject = z.ZodObject> {
  readonly multipart: S;
}

export interface RouteSpec {
  readonly method: HttpMethod;
  /** OpenAPI style: /api/v1/models/{name}/versions/{version}. */
  readonly path: `/${string}`;
  readonly tag: string;
  readonly summary: string;
  readonly auth: RouteAuth;
  /**
   * The least role an admin token needs for this route (rest/roles.ts). When absent: GET needs a
   * viewer, any other method an operator (see `routeRole`). Not used by public routes.
   */
  readonly role?: AdminRole;
  /** Every `{name}` of the path, as the client gives it (numbers are written in decimal). */
  readonly params?: z.ZodObject;
  /** The query string: the server parses it with this schema, the client writes its output type. */
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType | MultipartBody;
  /** An empty body stands for `{}`. */
  readonly bodyOptional?: boolean;
  /** Success statuses and their answers. */
  readonly responses: Readonly<Record<number, z.ZodType | RawResponse>>;
  /**
   * Error statuses beyond those every route may answer (400 bad request, 413 body too large, 500;
   * 401 and 403 (role too low, CSRF token missing) unless public; 404 with path parameters; 415
   * with a JSON body). Each is `{"error": reason}`.
   */
  readonly errors?: readonly number[];
}

/** `GET /api/v1/devices (listDevices)`: how messages name a route. */
export function describeRoute(name: string, spec: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${spec.method} ${spec.path} (${name})`;
}

export function isRawResponse(r: z.ZodType | RawResponse): r is RawResponse {
  return typeof (r as RawResponse).raw === 'string';
}

export function isMultipartBody(b: z.ZodType | MultipartBody): b is MultipartBody {
  return typeof (b as MultipartBody).multipart === 'object';
}

/** The error statuses a route may answer: the ones every route of its kind may, plus its own. */
export function errorStatuses(route: RouteSpec): number[] {
  const statuses = new Set([400, 413, 500, ...(route.errors ?? [])]);
  if (route.auth !== 'public') {
    statuses.add(401);
    statuses.add(403);
  }
  if (route.params) statuses.add(404);
  if (route.body && !isMultipartBody(route.body)) statuses.add(415);
  return [...statuses].sort((a, b) => a - b);
}

/** The least role an admin token needs for the route; undefined for public routes. */
export function routeRole(route: Pick<RouteSpec, 'auth' | 'method' | 'role'>): AdminRole | undefined {
  if (route.auth === 'public') return undefined;
  return route.role ?? (route.method === 'GET' ? 'viewer' : 'operator');
}

/** Keeps the literal types of a route (the client's types are derived from them). */
export function route<const R extends RouteSpec>(spec: R): R {
  return spec;
}

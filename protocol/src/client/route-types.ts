/**
 * @module client/route-types
 * The typed client's argument and result types, derived from the route table: path parameters
 * and query as their parsed (output) types, bodies as the server accepts them (input types),
 * answers as the schemas' output types, raw answers (artifact bytes, HTML) as the fetch Response.
 */
import type { z } from 'zod';
import type { MultipartBody, RawResponse, RouteSpec } from '../rest/route-spec.js';
import type { RestRoutes, RouteName } from '../rest/routes.js';

/** Per call: a longer timeout for an upload, a signal to cancel, extra headers. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

type ParamsPart<R> = R extends { params: infer P extends z.ZodObject }
  ? { params: z.output<P> }
  : { params?: undefined };
type QueryPart<R> = R extends { query: infer Q extends z.ZodObject }
  ? object extends z.output<Q>
    ? { query?: z.output<Q> }
    : { query: z.output<Q> }
  : { query?: undefined };
type BodyPart<R> = R extends { body: MultipartBody<infer S> }
  ? { body: z.input<S> }
  : R extends { body: infer B extends z.ZodType }
    ? R extends { bodyOptional: true }
      ? { body?: z.input<B> }
      : { body: z.input<B> }
    : { body?: undefined };

/** What a call of the route takes: `{params, query, body}` as the route declares them. */
export type RouteInput<R> = ParamsPart<R> & QueryPart<R> & BodyPart<R>;

type Answer<A> = A extends z.ZodType ? z.output<A> : A extends RawResponse ? Response : never;

/** What a successful call resolves to: the answer of any of the route's success statuses. */
export type RouteOutput<R extends RouteSpec> = {
  [S in keyof R['responses']]: Answer<R['responses'][S]>;
}[keyof R['responses']];

/** The input may be left out when nothing in it is required. */
export type RouteArgs<R> =
  object extends RouteInput<R>
    ? [input?: RouteInput<R>, options?: CallOptions]
    : [input: RouteInput<R>, options?: CallOptions];

export type RouteMethod<N extends RouteName> = (
  ...args: RouteArgs<RestRoutes[N]>
) => Promise<RouteOutput<RestRoutes[N]>>;

/** One method per route of the table, named as the route. */
export type RestClient = { readonly baseUrl: string } & { readonly [N in RouteName]: RouteMethod<N> };

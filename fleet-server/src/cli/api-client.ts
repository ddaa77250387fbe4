/**
 * @module cli/api-client
 * How the `edgeloop` CLI reaches the fleet server: which server (--server, $EDGELOOP_SERVER,
 * ./.edgeloop/server.json), which admin token and CA, and the typed client of
 * `@edgeloop/protocol/client` for the calls themselves.
 *
 * Every failure an operator can cause or fix (server down, bad request, conflict) surfaces as a
 * {@link CliError} whose message is a single line that says what went wrong and what to do next,
 * so the CLI can print it verbatim without a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchWithCa, isTlsVerifyError } from '@edgeloop/protocol';
import {
  createRestClient,
  RestContractError,
  RestError,
  RestNetworkError,
  ROUTE_NAMES,
  type CallOptions,
  type RestClient,
} from '@edgeloop/protocol/client';
import { DEFAULT_HTTP_PORT } from '../config.js';
import { describeFileError } from './format.js';

/** An error meant for the operator: printed as `error: <message>`, exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEFAULT_SERVER_URL = `http://127.0.0.1:${DEFAULT_HTTP_PORT}`;
/** Written by `npm start` / `edgeloop serve` so the CLI finds a server on a random port. */
export const SERVER_INFO_PATH = join('.edgeloop', 'server.json');

/**
 * The admin token to send. Precedence: --token, $EDGELOOP_TOKEN, then — only when talking to the
 * server that ./.edgeloop/server.json describes, so a token never goes to another server — its
 * `token` field, then ./.edgeloop/fleet/admin.token (the bootstrap token of `edgeloop serve`'s
 * default data dir). undefined: no token (the server answers 401 saying what to do).
 */
export function resolveToken(
  flags: { token?: string | undefined },
  env: Record<string, string | undefined>,
  cwd: string,
  serverUrl: string,
): string | undefined {
  if (flags.token !== undefined && flags.token !== '') return flags.token;
  if (env.EDGELOOP_TOKEN) return env.EDGELOOP_TOKEN;
  const info = readServerInfoFile(join(cwd, SERVER_INFO_PATH));
  if (!info || info.httpUrl.replace(/\/+$/, '') !== serverUrl) return undefined;
  if (info.token) return info.token;
  try {
    return readFileSync(join(cwd, ADMIN_TOKEN_PATH), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CA (PEM text) that signed the server's certificate, for an https server with a private CA.
 * Precedence: --ca FILE, $EDGELOOP_CA, then the `ca` file ./.edgeloop/server.json names, only
 * for the server it describes. undefined: the system's trust store.
 */
export function resolveCa(
  flags: { ca?: string | undefined },
  env: Record<string, string | undefined>,
  cwd: string,
  serverUrl: string,
): string | undefined {
  const [path, source] = flags.ca
    ? [flags.ca, '--ca']
    : env.EDGELOOP_CA
      ? [env.EDGELOOP_CA, 'EDGELOOP_CA']
      : [undefined, ''];
  const info = path === undefined ? readServerInfoFile(join(cwd, SERVER_INFO_PATH)) : undefined;
  const file = path ?? (info?.ca && info.httpUrl.replace(/\/+$/, '') === serverUrl ? info.ca : undefined);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the CA certificate ${file}${source ? ` (${source})` : ` (named by ${SERVER_INFO_PATH})`}: ${describeFileError(error)}; pass the fleet's CA with --ca FILE`,
    );
  }
}

/** The bootstrap admin token `edgeloop serve` writes into its default data dir. */
export const ADMIN_TOKEN_PATH = join('.edgeloop', 'fleet', 'admin.token');

/** Precedence: --server, $EDGELOOP_SERVER, ./.edgeloop/server.json, then the default port. */
export function resolveServerUrl(
  flags: { server?: string | undefined },
  env: Record<string, string | undefined>,
  cwd: string,
): string {
  return resolveServer(flags, env, cwd).url;
}

/** The server file a URL was read from: named when that server does not answer. */
export interface ServerFileSource {
  path: string;
  /** The process that wrote it (`edgeloop serve`, `npm start`), when recorded. */
  pid?: number;
}

/** {@link resolveServerUrl}, plus the server file the URL came from, if it did. */
export function resolveServer(
  flags: { server?: string | undefined },
  env: Record<string, string | undefined>,
  cwd: string,
): { url: string; file?: ServerFileSource } {
  if (flags.server !== undefined) return { url: validateServerUrl(flags.server, '--server') };
  const fromEnv = env.EDGELOOP_SERVER;
  if (fromEnv !== undefined && fromEnv !== '') return { url: validateServerUrl(fromEnv, 'EDGELOOP_SERVER') };
  const infoPath = join(cwd, SERVER_INFO_PATH);
  const info = readServerInfoFile(infoPath);
  if (info !== undefined)
    return {
      url: validateServerUrl(info.httpUrl, infoPath),
      file: { path: infoPath, ...(info.pid ? { pid: info.pid } : {}) },
    };
  return { url: DEFAULT_SERVER_URL };
}

function readServerInfoFile(path: string): { httpUrl: string; token?: string; ca?: string; pid?: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path} (${describeFileError(error)}); fix or delete it, or pass --server`);
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON (${(error as Error).message}); delete it or pass --server`);
  }
  const { httpUrl, token, ca, pid } = (info ?? {}) as {
    httpUrl?: unknown;
    token?: unknown;
    ca?: unknown;
    pid?: unknown;
  };
  if (typeof httpUrl !== 'string') {
    throw new CliError(`${path} has no "httpUrl" string; delete it or pass --server`);
  }
  return {
    httpUrl,
    ...(typeof token === 'string' && token !== '' ? { token } : {}),
    ...(typeof ca === 'string' && ca !== '' ? { ca } : {}),
    ...(Number.isSafeInteger(pid) && (pid as number) > 0 ? { pid: pid as number } : {}),
  };
}

function validateServerUrl(raw: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliError(`invalid server URL "${raw}" from ${source}; expected something like ${DEFAULT_SERVER_URL}`);
  }
  return raw.replace(/\/+$/, '');
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Uploads get extra time on top of the default: a model of tens of MB over a slow link to a
 * remote server would otherwise be reported as "unreachable" while it is still streaming.
 */
const UPLOAD_MS_PER_MB = 1_000;

/** The timeout for uploading `bytes`. */
export function uploadTimeoutMs(bytes: number, timeoutMs = DEFAULT_TIMEOUT_MS): number {
  return timeoutMs + Math.ceil(bytes / 1_048_576) * UPLOAD_MS_PER_MB;
}

/**
 * The typed REST client of `@edgeloop/protocol/client` (one method per route, answers checked
 * against the contract), with every failure turned into a {@link CliError} the CLI prints as is.
 */
export type ApiClient = RestClient;

/**
 * `token`: the admin token (see resolveToken); when left out it is resolved from $EDGELOOP_TOKEN
 * and ./.edgeloop/server.json for this server. `ca`: PEM of a private CA the server's
 * certificate must chain to (the requests then go through protocol's fetchWithCa).
 */
export function createApiClient(
  serverUrl: string,
  options: {
    timeoutMs?: number;
    token?: string | undefined;
    ca?: string | undefined;
    serverFile?: ServerFileSource | undefined;
  } = {},
): ApiClient {
  // Trailing slashes are dropped so a server mounted under a path prefix keeps that prefix.
  const baseUrl = serverUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const token = 'token' in options ? options.token : resolveToken({}, process.env, process.cwd(), baseUrl);
  const { ca } = options;
  const rest = createRestClient({
    baseUrl,
    timeoutMs,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(ca ? { fetch: (url: string, init: RequestInit) => fetchWithCa(url, init, ca) } : {}),
  });
  const client: Record<string, unknown> = { baseUrl };
  for (const name of ROUTE_NAMES) {
    const method = rest[name] as (input?: unknown, call?: CallOptions) => Promise<unknown>;
    client[name] = (input?: unknown, call?: CallOptions) =>
      method(input, call).catch((error: unknown) => {
        throw asCliError(error, {
          baseUrl,
          timeoutMs: call?.timeoutMs ?? timeoutMs,
          sentToken: token !== undefined,
          serverFile: options.serverFile,
        });
      });
  }
  return client as unknown as ApiClient;
}

/** What went wrong, in one line an operator can act on. */
function asCliError(
  error: unknown,
  context: { baseUrl: string; timeoutMs: number; sentToken: boolean; serverFile: ServerFileSource | undefined },
): unknown {
  const { baseUrl } = context;
  if (error instanceof RestNetworkError)
    return unreachable(baseUrl, describeNetworkFailure(error.cause, context.timeoutMs), context.serverFile);
  if (error instanceof RestError) {
    if (error.status === 401) {
      return new CliError(
        `${error.reason} (HTTP 401). ${context.sentToken ? 'The token the CLI sent was refused; pass another with --token or EDGELOOP_TOKEN' : 'The CLI had no admin token: pass --token, set EDGELOOP_TOKEN, or run it where .edgeloop/server.json names this server'}.`,
      );
    }
    return new CliError(error.message);
  }
  if (error instanceof RestContractError) {
    return error.kind === 'not-json'
      ? new CliError(
          `the server at ${baseUrl} answered ${error.route} with something that is not JSON; check that --server / EDGELOOP_SERVER points at an EdgeLoop fleet server`,
        )
      : new CliError(
          `the server at ${baseUrl} answered ${error.route} outside the API contract (${error.problem}); is it an EdgeLoop fleet server of the same version as this CLI?`,
        );
  }
  return error;
}

function unreachable(baseUrl: string, cause: string, serverFile?: ServerFileSource): CliError {
  if (isTlsVerifyError({ code: cause })) {
    return new CliError(
      `the fleet server at ${baseUrl} presented a certificate the CLI does not trust (${cause}); pass its CA with --ca FILE or EDGELOOP_CA (edgeloop serve --tls-self-signed keeps it in <data>/tls/ca.crt)`,
    );
  }
  if (serverFile !== undefined) {
    // The file outlives a server that crashed or was killed: say where the address came from.
    const { pid } = serverFile;
    const writer =
      pid === undefined
        ? ''
        : `, written by pid ${pid}${isRunning(pid) ? '' : ', which is no longer running: the file is stale'}`;
    return new CliError(
      `cannot reach the fleet server at ${baseUrl} (${cause}), the address in ${serverFile.path}${writer}. ` +
        `Start the server again ("npm start" or "edgeloop serve" in this directory), delete ${serverFile.path}, or point --server / EDGELOOP_SERVER at a running server.`,
    );
  }
  return new CliError(
    `cannot reach the fleet server at ${baseUrl} (${cause}). ` +
      'Start it with "npm start" or "edgeloop serve", or point --server / EDGELOOP_SERVER at it.',
  );
}

/** Signal 0 only checks: EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Undici hides the useful part (ECONNREFUSED, ENOTFOUND, …) in `error.cause`. */
function describeNetworkFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${Math.round(timeoutMs / 1000)}s`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  const code = errorCode(cause) ?? errorCode(error);
  if (code !== undefined) return code;
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  // Dual-stack connects (localhost → ::1 and 127.0.0.1) fail with an AggregateError.
  if (Array.isArray(errors)) return errorCode(errors[0]);
  return undefined;
}

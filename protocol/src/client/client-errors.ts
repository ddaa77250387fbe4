/**
 * @module client/client-errors
 * How a REST call fails, each naming the route so a message says which call went wrong:
 * the server refused it (RestError: status and the server's reason), it answered outside the
 * contract (RestContractError: the status or the field that does not match), or no answer came
 * (RestNetworkError: the fetch failure is the `cause`).
 */

/** A 4xx/5xx answer; `reason` is the server's `error` text (or the status text). */
export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(
    readonly route: string,
    readonly status: number,
    readonly reason: string,
    readonly body: unknown,
  ) {
    super(`${reason} (HTTP ${status})`);
  }
}

/** A 2xx answer that is not what the route declares: an undeclared status, not JSON, or a field that does not match. */
export class RestContractError extends Error {
  override readonly name = 'RestContractError';
  constructor(
    readonly route: string,
    readonly status: number,
    /** What does not match, e.g. `devices.0.online: expected boolean, received string`. */
    readonly problem: string,
    readonly kind: 'status' | 'not-json' | 'schema',
  ) {
    super(`${route} answered ${status} outside the API contract: ${problem}`);
  }
}

/** No answer: refused connection, DNS, TLS, timeout, or the connection dropped mid-answer. */
export class RestNetworkError extends Error {
  override readonly name = 'RestNetworkError';
  constructor(
    readonly route: string,
    cause: unknown,
  ) {
    super(`${route}: no answer (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

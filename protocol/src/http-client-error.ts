/**
 * @module http-client-error
 * Requests Node's HTTP parser refuses before any route sees them (a control character in a
 * header, headers too large, a garbled request line) would get Node's bare "400 Bad Request"
 * with no body. Agent and fleet server promise `{"error": "..."}` on every 4xx, so both install
 * this on their HTTP servers. Type-only imports: nothing here loads node:http in a browser.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

interface ParserError extends Error {
  code?: string;
}

/** Status and what to tell the caller for one of Node's parser errors. */
export function describeClientError(err: ParserError): { status: number; error: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'the request headers are too large; send fewer or shorter headers' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { status: 408, error: 'the request took too long to arrive; send it again' };
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_HEADER_VALUE':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return {
        status: 400,
        error:
          'a request header holds a character HTTP does not allow (a control character such as CR, LF or NUL, or a bad header name); remove it and send the request again',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        error: 'the chunked body carries too much chunk-extension data; send a plain chunked or Content-Length body',
      };
    default:
      return {
        status: 400,
        error: `the HTTP request is malformed (${err.code ?? 'parse error'}: ${err.message}); check the client sending it`,
      };
  }
}

/** Answers every request Node's parser refuses with a JSON error, then closes the connection. */
export function answerClientErrorsWithJson(server: Server): void {
  server.on('clientError', (err: ParserError, socket: Duplex) => {
    // A reset or half-gone socket has nobody left to read an answer; one already sending a
    // response (keep-alive, the next request garbled) would get our bytes mid-response.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, error } = describeClientError(err);
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${new TextEncoder().encode(body).length}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

// Errors of the Kubernetes API, classified once so activities can decide what to retry.

/** The API server answered with an error status. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  /** `server`: named in the message of throttling and server errors (the API server's own trouble, not the request's). */
  static fromResponse(method: string, path: string, status: number, body: string, server?: string): KubeApiError {
    let reason = 'Unknown';
    let message = body.slice(0, 500);
    try {
      const s = JSON.parse(body) as { reason?: string; message?: string };
      reason = s.reason ?? reason;
      message = s.message ?? message;
    } catch {
      // not a Status object: keep the raw text
    }
    const hint = notInSchema(message);
    const from = server && (status === 429 || status >= 500) ? ` from ${server}` : '';
    return new KubeApiError(status, reason, `${method} ${path}: ${status} ${reason}${from}: ${message}${hint ? ` (${hint})` : ''}`);
  }

  /**
   * Worth retrying: conflicts, throttling, server trouble. Not: invalid, forbidden, not found,
   * nor an object that does not fit the API's schema (answered with 500, see notInSchema).
   */
  get transient(): boolean {
    if (notInSchema(this.message)) return false;
    return this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/**
 * Server-side apply converts the object to the API's typed schema first; when it does not fit (a
 * field the schema does not declare, duplicate keys in a keyed list) the API server answers 500
 * "failed to create typed patch object", yet the same object fails the same way every time: the
 * template is wrong. What to tell the operator, or undefined for other errors.
 */
function notInSchema(message: string): string | undefined {
  if (!message.includes('failed to create typed patch object')) return undefined;
  return message.includes('field not declared in schema')
    ? 'the object has a field this Kubernetes API does not know: a misspelled or misplaced field of the catalog template; retrying cannot help'
    : "the object does not fit this Kubernetes API's schema: fix the catalog template; retrying cannot help";
}

/** The API server could not be reached (connection refused, reset, timeout). Always transient. */
export class KubeUnavailableError extends Error {
  override readonly name = 'KubeUnavailableError';
  constructor(method: string, path: string, server: string, cause: Error) {
    super(`${method} ${path}: Kubernetes API server ${server} unreachable: ${cause.message}`, { cause });
  }
}

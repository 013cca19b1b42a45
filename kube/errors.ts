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

  static fromResponse(method: string, path: string, status: number, body: string): KubeApiError {
    let reason = 'Unknown';
    let message = body.slice(0, 500);
    try {
      const s = JSON.parse(body) as { reason?: string; message?: string };
      reason = s.reason ?? reason;
      message = s.message ?? message;
    } catch {
      // not a Status object: keep the raw text
    }
    return new KubeApiError(status, reason, `${method} ${path}: ${status} ${reason}: ${message}`);
  }

  /** Worth retrying: conflicts, throttling, server trouble. Not: invalid, forbidden, not found. */
  get transient(): boolean {
    return this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/** The API server could not be reached (connection refused, reset, timeout). Always transient. */
export class KubeUnavailableError extends Error {
  override readonly name = 'KubeUnavailableError';
  constructor(method: string, path: string, server: string, cause: Error) {
    super(`${method} ${path}: Kubernetes API server ${server} unreachable: ${cause.message}`, { cause });
  }
}

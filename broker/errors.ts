// The broker's failures in OSB terms: one error class and its named instances. Every failure
// status is decided here; success codes are the routes' business, rendering is api/app.ts's.
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    readonly status: ContentfulStatusCode,
    /** The OSB `error` code (AsyncRequired, ConcurrencyError, ...), when the spec names one. */
    readonly code: string | undefined,
    readonly description: string,
    /** 409 and 410 answer with `{}` as brokers conventionally do. */
    readonly emptyBody = false,
    readonly extra: { instance_usable?: boolean; update_repeatable?: boolean } = {},
  ) {
    super(description);
  }

  body(): Record<string, unknown> {
    if (this.emptyBody) return {};
    return { ...(this.code ? { error: this.code } : {}), description: this.description, ...this.extra };
  }
}

export const badRequest = (description: string) => new BrokerError(400, 'BadRequest', description);
export const unauthorized = () => new BrokerError(401, 'Unauthorized', 'missing or wrong credentials: authenticate with HTTP basic auth');
export const notFound = (description: string) => new BrokerError(404, 'NotFound', description);
export const conflict = (description: string) => new BrokerError(409, 'Conflict', description, true);
export const gone = () => new BrokerError(410, undefined, 'gone', true);
export const preconditionFailed = (description: string) => new BrokerError(412, 'PreconditionFailed', description);
export const tooLarge = (limit: number) => new BrokerError(413, 'PayloadTooLarge', `the request body is larger than ${limit} bytes`);
export const fieldTooLarge = (field: string, bytes: number, limit: number) =>
  new BrokerError(413, 'PayloadTooLarge', `${field} is ${bytes} bytes of JSON; the broker stores at most ${limit} bytes of it: send less`);
export const unsupportedMediaType = () => new BrokerError(415, 'UnsupportedMediaType', 'send the request body as JSON with Content-Type: application/json');

export const asyncRequired = () =>
  new BrokerError(422, 'AsyncRequired', 'This operation runs asynchronously: retry with the query parameter accepts_incomplete=true.');
export const concurrencyError = (what: string) =>
  new BrokerError(422, 'ConcurrencyError', `Another operation for ${what} is in progress; retry when it has finished.`);
export const maintenanceInfoConflict = (expected: string | undefined) =>
  new BrokerError(
    422,
    'MaintenanceInfoConflict',
    expected
      ? `The maintenance information for the requested plan has changed: its version is now ${expected}; fetch the catalog again.`
      : 'The requested plan has no maintenance information; fetch the catalog again.',
  );
/** A quota of the clusters configuration: nothing was created. */
export const quotaExceeded = (description: string) => new BrokerError(422, 'QuotaExceeded', description);
export const unprocessable = (description: string, extra: BrokerError['extra'] = {}) => new BrokerError(422, 'UnprocessableEntity', description, false, extra);

/** Temporal or Kubernetes could not be reached: the request changed nothing, try again. */
export const unavailable = (description: string) => new BrokerError(503, 'ServiceUnavailable', description);

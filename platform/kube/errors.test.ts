import { describe, expect, it } from 'vitest';
import { KubeApiError } from './errors.js';

const status = (code: number, message: string, reason?: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, ...(reason ? { reason } : {}), code });

const PATH = '/apis/apps/v1/namespaces/tenant-a/deployments/x0?fieldManager=kubernetes-broker&force=true';

describe('KubeApiError', () => {
  it('reads the Status the API server answered with', () => {
    const err = KubeApiError.fromResponse('PATCH', PATH, 422, status(422, 'Deployment.apps "x0" is invalid: spec.selector: Required value', 'Invalid'));
    expect(err).toMatchObject({
      status: 422,
      reason: 'Invalid',
      message: `PATCH ${PATH}: 422 Invalid: Deployment.apps "x0" is invalid: spec.selector: Required value`,
    });
    expect(KubeApiError.fromResponse('GET', '/x', 502, '<html>bad gateway</html>').message).toBe('GET /x: 502 Unknown: <html>bad gateway</html>');
  });

  it.each([
    [409, 'Conflict', true],
    [429, 'TooManyRequests', true],
    [500, 'InternalError', true],
    [503, 'ServiceUnavailable', true],
    [504, 'Timeout', true],
    [400, 'BadRequest', false],
    [403, 'Forbidden', false],
    [404, 'NotFound', false],
    [422, 'Invalid', false],
  ])('status %i (%s) is transient: %s', (code, reason, transient) => {
    expect(KubeApiError.fromResponse('PATCH', PATH, code, status(code, 'something', reason)).transient).toBe(transient);
  });

  it('takes a field the API does not know (server-side apply answers 500) for a permanent error of the template', () => {
    // What the kube-apiserver answers for the seed's elasticsearch Deployments before the loader fixed them.
    const message =
      'failed to create typed patch object (tenant-a/x0; apps/v1, Kind=Deployment): ' +
      '.spec.template.spec.containers[name="k-elasticsearch17-persistent"].securityContext.add: field not declared in schema';
    const err = KubeApiError.fromResponse('PATCH', PATH, 500, status(500, message));
    expect(err.status).toBe(500);
    expect(err.transient).toBe(false);
    expect(err.message).toBe(
      `PATCH ${PATH}: 500 Unknown: ${message} ` +
        '(the object has a field this Kubernetes API does not know: a misspelled or misplaced field of the catalog template; retrying cannot help)',
    );
    // Other failures of the same conversion are the template's too (a list with duplicate keys).
    const duplicate = KubeApiError.fromResponse(
      'PATCH',
      PATH,
      500,
      status(
        500,
        'failed to create typed patch object (tenant-a/x0; apps/v1, Kind=Deployment): errors:\n  .spec.template.spec.containers[name="a"].env: duplicate entries for key [name="A"]',
      ),
    );
    expect(duplicate.transient).toBe(false);
    expect(duplicate.message).toContain("(the object does not fit this Kubernetes API's schema: fix the catalog template; retrying cannot help)");
    // A plain internal error stays transient.
    expect(KubeApiError.fromResponse('PATCH', PATH, 500, status(500, 'etcdserver: request timed out', 'InternalError')).transient).toBe(true);
  });
});

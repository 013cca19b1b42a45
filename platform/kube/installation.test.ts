import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { INSTALLATION_LABEL, installationOf, installationSelector, withInstallation } from './installation.js';

const env = { AUTH_USER: 'u', AUTH_PASS: 'password-1', TEMPORAL_ADDRESS: 'localhost:7233' };

describe('installation', () => {
  it('is BROKER_INSTALLATION, else the records namespace', () => {
    expect(installationOf(loadConfig({ ...env, BROKER_NAMESPACE: 'broker-staging' }))).toBe('broker-staging');
    expect(installationOf(loadConfig({ ...env, BROKER_NAMESPACE: 'broker-staging', BROKER_INSTALLATION: 'Staging_1' }))).toBe('Staging_1');
  });

  it('refuses an installation id that cannot be a label value', () => {
    expect(() => loadConfig({ ...env, BROKER_INSTALLATION: 'staging/eu' })).toThrow(/BROKER_INSTALLATION must be a Kubernetes label value/);
    expect(() => loadConfig({ ...env, BROKER_INSTALLATION: 'x'.repeat(64) })).toThrow(/BROKER_INSTALLATION/);
  });

  it("labels an object's own metadata, and nothing inside it", () => {
    const pod = { metadata: { labels: { app: 'web' } } };
    const object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { app: 'web' } }, spec: { template: pod } };
    const labelled = withInstallation(object, 'prod');
    expect(labelled.metadata.labels).toEqual({ app: 'web', [INSTALLATION_LABEL]: 'prod' });
    expect(labelled.spec.template).toEqual({ metadata: { labels: { app: 'web' } } });
    expect(object.metadata.labels).toEqual({ app: 'web' });
    expect(installationSelector('prod')).toBe('kubernetes-broker.io/installation=prod');
  });
});

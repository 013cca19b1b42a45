// Identities with only the rights a test gives them: a ServiceAccount's token from the TokenRequest
// API, in a kubeconfig that holds nothing else (no client certificate, nothing of the admin's).
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { KubeApi } from '../../../platform/kube/api.js';
import { loadKubeConfig } from '../../../platform/kube/connect.js';
import { eventually, stackEnv } from './stack.js';

/** Mints a token of `namespace/serviceAccount` (valid one hour) and writes a kubeconfig of it into `dir`. */
export async function serviceAccountKubeconfig(kube: KubeApi, namespace: string, serviceAccount: string, dir: string): Promise<string> {
  const res = await eventually(`a token of ${serviceAccount}`, () =>
    kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    }),
  );
  const cluster = loadKubeConfig({ KUBECONFIG: stackEnv()['KUBECONFIG'] }).getCurrentCluster()!;
  const ca = cluster.caData ?? fs.readFileSync(cluster.caFile!).toString('base64');
  const file = path.join(dir, `${namespace}-${serviceAccount}.kubeconfig`);
  fs.writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stack', cluster: { server: cluster.server, 'certificate-authority-data': ca } }],
      users: [{ name: serviceAccount, user: { token: res.status.token } }],
      contexts: [{ name: serviceAccount, context: { cluster: 'stack', user: serviceAccount } }],
      'current-context': serviceAccount,
    }),
    { mode: 0o600 },
  );
  return file;
}

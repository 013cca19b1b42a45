// The test catalog of test/integration/fixtures/catalog: its folder, its service and the plan
// whose workloads turn ready at once.
import { fileURLToPath } from 'node:url';

export const FIXTURE_CATALOG = fileURLToPath(new URL('../fixtures/catalog', import.meta.url));
export const TESTAPP_SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
export const READY_PLAN = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
/** Admin credentials for a test's broker, and the header that carries them. */
export const ADMIN_SETTINGS = { ADMIN_USER: 'admin', ADMIN_PASS: 'admin-password' };
export const ADMIN_AUTH = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;

// The command line through its real entry point: `node bin/kubernetes-broker.js ...` as a child
// process (the bin runs the TypeScript sources through tsx when there is no dist/ build), its
// exit codes and what it prints. Every process has a deadline.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { OLD_FORMAT_CATALOG_DIR, SEED_CATALOG_DIR, SEED_CATALOG_PRESENT, SEED_SKIP_NOTE } from '../seed-catalog.js';

const BIN = path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js');
const PROCESS_TIMEOUT_MS = 90_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `args` and waits for it to exit; killed (SIGKILL) after the timeout. The
 * environment is this process's without the broker's own variables, plus `env`.
 */
function cli(args: string[], env: Record<string, string> = {}, timeoutMs = PROCESS_TIMEOUT_MS): Promise<Run> {
  const base = { ...process.env };
  for (const name of ['AUTH_USER', 'AUTH_PASS', 'CATALOG_DIR', 'STORAGE_CLASS', 'PORT', 'HOST']) delete base[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') reject(new Error(`kubernetes-broker ${args.join(' ')}: no exit within ${timeoutMs / 1000}s\n${stdout}\n${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

/** For failure messages: what the process printed. */
const printed = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

// The processes are independent: they run side by side (each spends seconds loading its sources).
describe.concurrent('kubernetes-broker CLI', () => {
  describe('catalog validate', () => {
    let tmp: string;
    beforeAll(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-cli-'));
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('accepts a catalog in the old broker format: exit 0, a summary and its warnings', async ({ expect }) => {
      const r = await cli(['catalog', 'validate', OLD_FORMAT_CATALOG_DIR]);
      expect(r.code, printed(r)).toBe(0);
      expect(r.stdout).toContain(`catalog ${OLD_FORMAT_CATALOG_DIR}: 3 services, 6 plans, 15 warnings\n`);
      expect(r.stdout).toContain('warning: webserver/simple/credentials-mappings.json:7: trailing comma before } or ] tolerated (it is not JSON)\n');
      expect(r.stderr).toBe('');
    });

    it.skipIf(!SEED_CATALOG_PRESENT)(`accepts the old broker catalog: exit 0 and a summary${SEED_SKIP_NOTE}`, async ({ expect }) => {
      const r = await cli(['catalog', 'validate', SEED_CATALOG_DIR]);
      expect(r.code, printed(r)).toBe(0);
      expect(r.stdout).toContain(`catalog ${SEED_CATALOG_DIR}: 31 services, 61 plans, `);
      expect(r.stdout).toMatch(/\d+ warnings?\n/);
      expect(r.stderr).toBe('');
    });

    it('accepts the shipped catalog: exit 0 and a summary', async ({ expect }) => {
      const r = await cli(['catalog', 'validate', SHIPPED_CATALOG_DIR]);
      expect(r.code, printed(r)).toBe(0);
      expect(r.stdout).toContain(`catalog ${SHIPPED_CATALOG_DIR}: 5 services, 11 plans, 0 warnings`);
      expect(r.stderr).toBe('');
    });

    it('refuses a broken copy: exit 1, every problem with its file and field or line', async ({ expect }) => {
      const dir = path.join(tmp, 'broken');
      fs.cpSync(path.join(SHIPPED_CATALOG_DIR, 'redis'), path.join(dir, 'redis'), { recursive: true });
      // A field of the wrong type...
      const smallPlan = path.join(dir, 'redis/small/plan.json');
      fs.writeFileSync(smallPlan, JSON.stringify({ ...JSON.parse(fs.readFileSync(smallPlan, 'utf8')), free: 'yes' }, null, 2));
      // ...and a JSON syntax error (a doubled comma after a value) in the service's shared Secret.
      const secret = path.join(dir, 'redis/secretTemplates/secret.json');
      const text = fs.readFileSync(secret, 'utf8');
      const line = text.split('\n').findIndex((l) => /^\s*"type": "Opaque"/.test(l)) + 1;
      expect(line).toBeGreaterThan(0);
      fs.writeFileSync(secret, text.replace('"type": "Opaque",', '"type": "Opaque",,'));

      const r = await cli(['catalog', 'validate', dir]);
      expect(r.code, printed(r)).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr, printed(r)).toContain(`catalog ${dir} has 2 problems:`);
      expect(r.stderr).toMatch(/^redis\/small\/plan\.json free: must be a boolean/m);
      expect(r.stderr).toMatch(new RegExp(`^redis/secretTemplates/secret\\.json:${line}: invalid JSON`, 'm'));
    });

    it('exits 1 naming a directory that does not exist', async ({ expect }) => {
      const missing = path.join(tmp, 'no-such-catalog');
      const r = await cli(['catalog', 'validate', missing]);
      expect(r.code, printed(r)).toBe(1);
      expect(r.stderr).toContain(missing);
    });
  });

  describe('catalog render', () => {
    it('prints the YAML documents of a plan, parameters applied', async ({ expect }) => {
      const r = await cli(['catalog', 'render', 'service-catalog', 'redis', 'small', '--params', '{"memory":"1Gi"}']);
      expect(r.code, printed(r)).toBe(0);
      const documents = parseAllDocuments(r.stdout);
      expect(Array.isArray(documents)).toBe(true);
      const objects = (documents as { errors: unknown[]; toJS(): any }[]).map((d) => {
        expect(d.errors).toEqual([]);
        return d.toJS();
      });
      expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Role', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']);
      const deployment = objects.find((o) => o.kind === 'Deployment');
      const redis = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'redis');
      expect(redis.resources.limits.memory).toBe('1Gi');
    });

    it('refuses a parameter value the schema does not allow: exit 1 naming the parameter', async ({ expect }) => {
      const r = await cli(['catalog', 'render', 'service-catalog', 'redis', 'small', '--params', '{"memory":"3Gi"}']);
      expect(r.code, printed(r)).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/parameters\.memory must be one of/);
    });

    it('refuses an undeclared parameter: exit 1 naming it', async ({ expect }) => {
      const r = await cli(['catalog', 'render', 'service-catalog', 'redis', 'small', '--params', '{"sizee":"1Gi"}']);
      expect(r.code, printed(r)).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('parameters.sizee is not allowed');
    });

    it('refuses parameters that are not JSON: exit 1', async ({ expect }) => {
      const r = await cli(['catalog', 'render', 'service-catalog', 'redis', 'small', '--params', '{memory: 1Gi}']);
      expect(r.code, printed(r)).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('parameters are not JSON');
    });
  });

  describe('entry point', () => {
    it('without a command: exit 2 and the usage', async ({ expect }) => {
      const r = await cli([]);
      expect(r.code, printed(r)).toBe(2);
      expect(r.stdout + r.stderr).toContain('usage: kubernetes-broker <command>');
      expect(r.stdout + r.stderr).toContain('catalog validate <dir>');
    });

    it('a subcommand with --help: its usage on stdout, exit 0', async ({ expect }) => {
      const r = await cli(['instances', 'show', '--help']);
      expect(r.code, printed(r)).toBe(0);
      expect(r.stdout).toMatch(/^usage: kubernetes-broker instances show \[options\] <instance-id>\n/);
      expect(r.stderr).toBe('');
    });

    it('a missing argument: one line naming it, exit 2, no stack trace', async ({ expect }) => {
      const r = await cli(['catalog', 'render', 'service-catalog', 'redis']);
      expect(r.code, printed(r)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe("kubernetes-broker catalog render: missing required argument 'plan'; see 'kubernetes-broker catalog render --help'\n");
    });

    it('serve without AUTH_PASS: exit 1 naming it', async ({ expect }) => {
      // PORT 0 and loopback: should the configuration pass by mistake, nothing takes a real port.
      const r = await cli(['serve'], { AUTH_USER: 'platform', HOST: '127.0.0.1', PORT: '0' });
      expect(r.code, printed(r)).toBe(1);
      expect(r.stderr).toContain('invalid configuration');
      expect(r.stderr).toMatch(/AUTH_PASS: is required/);
      expect(r.stderr).not.toContain('AUTH_USER');
    });

    it('serve without AUTH_USER and AUTH_PASS: exit 1 naming both', async ({ expect }) => {
      const r = await cli(['serve'], { HOST: '127.0.0.1', PORT: '0' });
      expect(r.code, printed(r)).toBe(1);
      expect(r.stderr).toMatch(/AUTH_USER: is required/);
      expect(r.stderr).toMatch(/AUTH_PASS: is required/);
    });
  });
});

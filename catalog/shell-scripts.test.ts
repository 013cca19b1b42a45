import { describe, expect, it } from 'vitest';
import { formatProblem } from './errors.js';
import { baseCatalog, deployment, temporaryCatalogs } from './testing.js';

const { load } = temporaryCatalogs();

const plan = {
  id: 'db-small-id',
  name: 'small',
  description: 'Small',
  schemas: { service_instance: { create: { parameters: { type: 'object', properties: { mode: { type: 'string' }, size: { type: 'integer' } } } } } },
};

/** The plan's Deployment with its one container changed by `container`. */
function withContainer(container: Record<string, unknown>): Record<string, unknown> {
  const d = deployment('$short_serviceid') as any;
  Object.assign(d.spec.template.spec.containers[0], container);
  return d;
}

/** The shell-script warnings of the base catalog with that container, one line each. */
async function shellWarnings(container: Record<string, unknown>, files: Record<string, unknown> = {}): Promise<string[]> {
  const { warnings } = await load(
    baseCatalog({ 'db/small/plan.json': plan, 'db/small/k8s/deployment.json': withContainer(container), ...(files as Record<string, never>) }),
  );
  return warnings.map(formatProblem).filter((w) => w.includes('shell script'));
}

describe('catalog validate: parameters inside shell scripts', () => {
  it('warns for a parameter in the script of sh -c, naming file, field, object, container, placeholder and the fix', async () => {
    const warnings = await shellWarnings({ command: ['/bin/sh', '-c'], args: ['set -eu\nexec server --mode=$param_mode'] });
    expect(warnings).toEqual([
      'db/small/k8s/deployment.json spec.template.spec.containers[0].args[0]: Deployment $short_serviceid, container main: ' +
        "$param_mode stands inside a shell script, where a value with quotes, ';', '$( )' or a newline runs as commands and only the schema stops it; " +
        `pass it through the container's env instead (- name: MODE, value: "$param_mode") and read "$$MODE" in the script ($$ stands for $ in templates)`,
    ]);
  });

  it('finds the script behind wrappers and flags: env bash -ec, tini -- sh -o pipefail -c, args alone', async () => {
    const cases = [
      { command: ['/usr/bin/env', 'bash', '-ec', 'run $param_size'] },
      { command: ['tini', '--', 'sh', '-o', 'pipefail', '-c', 'run $param_mode | tee log'] },
      { args: ['sh', '-c', 'run $param_mode'] },
      { command: ['bash', '--norc', '-c', 'run $param_mode'] },
    ];
    for (const container of cases) expect(await shellWarnings(container), JSON.stringify(container)).toHaveLength(1);
  });

  it('warns for a here-document, for probes and lifecycle hooks, and for hook Jobs', async () => {
    expect(await shellWarnings({ command: ['/entrypoint'], args: ['cat > /conf <<EOF\nmode $param_mode\nEOF'] })).toHaveLength(1);
    const probe = { exec: { command: ['/bin/sh', '-c', 'check $param_mode'] } };
    expect(await shellWarnings({ readinessProbe: probe, lifecycle: { preStop: probe } })).toEqual([
      expect.stringContaining('spec.template.spec.containers[0].readinessProbe.exec.command[2]: '),
      expect.stringContaining('spec.template.spec.containers[0].lifecycle.preStop.exec.command[2]: '),
    ]);
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: '$short_serviceid-init' },
      spec: { template: { spec: { containers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'init $param_mode'] }] } } },
    };
    expect(await shellWarnings({}, { 'db/small/hooks/onCreateInstance/job.json': job })).toEqual([
      expect.stringMatching(/^db\/small\/hooks\/onCreateInstance\/job.json .*Job \$short_serviceid-init, container init: \$param_mode /),
    ]);
  });

  it('does not warn for a parameter in env, in the args of a program that is no shell, or as a positional parameter of sh -c', async () => {
    expect(await shellWarnings({ command: ['/bin/sh', '-c', 'exec server --mode="$$MODE"'], env: [{ name: 'MODE', value: '$param_mode' }] })).toEqual([]);
    expect(await shellWarnings({ command: ['redis-server'], args: ['--maxmemory-policy', '$param_mode', '--size=$param_size'] })).toEqual([]);
    expect(await shellWarnings({ command: ['/bin/sh', '-c', 'exec server --mode="$$1"', 'sh', '$param_mode'] })).toEqual([]);
    expect(await shellWarnings({ command: ['/bin/sh', '/scripts/start.sh', '$param_mode'] })).toEqual([]);
  });

  it('leaves other placeholders in scripts alone (they are not request input)', async () => {
    expect(await shellWarnings({ command: ['/bin/sh', '-c', 'exec server --name=$short_serviceid --ns=$namespace'] })).toEqual([]);
  });
});

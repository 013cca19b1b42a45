// `kubernetes-broker upgrade --plan <id>`: rolls the plan's maintenance_info out through the
// upgradePlan workflow and follows it, a line per instance as each finishes, then a summary and
// every failure with its description. The workflow does the work: this command may stop (or
// crash), and running it again follows the upgrade still running instead of starting another.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdminDeps } from '../api/admin/deps.js';
import { DEFAULT_UPGRADE_CONCURRENCY, startUpgrade, upgradeDryRun, upgradeStatus, upgradeSummary } from '../api/admin/upgrade.js';
import type { UpgradeOutcome } from '../workflows/types.js';

interface Out {
  log(s: string): void;
  error(s: string): void;
}

export interface UpgradeFlags {
  plan: string;
  concurrency?: string | undefined;
  dryRun?: boolean | undefined;
  json?: boolean | undefined;
}

const POLL_MS = 1000;

const outcomeLine = (o: UpgradeOutcome) =>
  `${{ upgraded: 'upgraded', current: 'already current', failed: 'failed' }[o.outcome]} ${o.instanceId}${o.description ? `: ${o.description}` : ''}`;

/** Exit code 0 when no instance failed, 1 otherwise. */
export async function upgradeCommand(deps: AdminDeps, flags: UpgradeFlags, out: Out): Promise<number> {
  if (flags.dryRun) {
    const dry = await upgradeDryRun(deps, flags.plan);
    if (flags.json) out.log(JSON.stringify(dry, null, 2));
    else {
      out.log(`dry run: nothing is started. Plan ${dry.plan} of service ${dry.service} is at maintenance_info ${dry.version}.`);
      for (const u of dry.wouldUpgrade) out.log(`would upgrade ${u.instanceId} (from ${u.from ?? 'no recorded version'})`);
      for (const o of dry.outcomes) out.log(o.outcome === 'failed' ? `would fail ${o.instanceId}: ${o.description}` : outcomeLine(o));
      const counts = upgradeSummary(dry.outcomes);
      out.log(`would upgrade ${dry.wouldUpgrade.length}, already current ${counts.current}, cannot upgrade now ${counts.failed}`);
    }
    return 0;
  }

  const concurrency = flags.concurrency === undefined ? DEFAULT_UPGRADE_CONCURRENCY : Number(flags.concurrency);
  const started = await startUpgrade(deps, flags.plan, concurrency);
  if (!flags.json) {
    out.log(
      `upgrading the instances of plan ${flags.plan} to maintenance_info ${started.version} (workflow ${started.workflowId}, run ${started.runId}): ` +
        'it goes on if this command stops; run the command again to follow it',
    );
  }
  let shown = 0;
  for (;;) {
    const status = await upgradeStatus(deps, flags.plan);
    if (status?.error) {
      out.error(`kubernetes-broker: the upgrade failed: ${status.error}`);
      return 1;
    }
    if (status && !flags.json) for (const o of status.outcomes.slice(shown)) out.log(`[${++shown}/${status.total}] ${outcomeLine(o)}`);
    if (status?.done) {
      const counts = upgradeSummary(status.outcomes);
      if (flags.json) out.log(JSON.stringify({ ...status, summary: counts }, null, 2));
      else {
        out.log(`upgraded ${counts.upgraded}, already current ${counts.current}, failed ${counts.failed}`);
        for (const o of status.outcomes.filter((x) => x.outcome === 'failed')) out.log(`  ${o.instanceId}: ${o.description}`);
      }
      return counts.failed ? 1 : 0;
    }
    await sleep(POLL_MS);
  }
}

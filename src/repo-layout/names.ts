// Names that become folders, Kubernetes objects and Kafka names, checked before anything is
// written so no input can escape its folder, namespace or topic prefix. The rules are the contract
// package's (@aerogrid/protocol); this turns a broken one into the CLI's error with a hint.
import { CliError, ExitCode } from '../errors.js';
import { closest } from '../app-spec/names.js';
import { DEPLOYED_APP_MAX, DNS1123_MAX, deployedAppProblem, internalTopicGrant, deployedTenantProblem, isReservedTenant, TOPIC_PREFIX, topicPatternProblem, topicProblem } from '@aerogrid/protocol/names';

export function checkTenant(value: string): string {
  const problem = deployedTenantProblem(value);
  if (problem && isReservedTenant(value)) {
    throw new CliError(`Tenant '${value}' ${problem.reason}.`, { exitCode: ExitCode.invalid, hint: `Pick another tenant name (e.g. ${problem.suggestion ?? 'team-sales'}).` });
  }
  if (problem) {
    throw new CliError(`Tenant '${value}' is not a valid name: it becomes a Kubernetes namespace.`, {
      exitCode: ExitCode.invalid,
      hint: `It ${problem.reason}. Use at most ${DNS1123_MAX} lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. ${problem.suggestion ?? 'team-sales'}).`,
    });
  }
  return value;
}

export function checkApp(value: string): string {
  if (deployedAppProblem(value)) {
    throw new CliError(`App '${value}' is not a valid name: it becomes Kubernetes and Kafka names.`, {
      exitCode: ExitCode.invalid,
      hint: `Use at most ${DEPLOYED_APP_MAX} lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. ordersapp).`,
    });
  }
  return value;
}

/** A topic, or a prefix pattern ending in '*' (tenant allowances only). */
export function checkTopic(value: string, options: { pattern?: boolean } = {}): string {
  if (options.pattern ? topicPatternProblem(value) : topicProblem(value)) {
    throw new CliError(`Topic '${value}' is not a valid Kafka topic name.`, {
      exitCode: ExitCode.invalid,
      hint: `Use letters, digits, '.', '_' and '-'${options.pattern ? ', optionally ending in \'*\' for every topic with that prefix' : ''}.`,
    });
  }
  if (options.pattern && internalTopicGrant(value)) {
    throw new CliError(`Topic '${value}' reaches into the platform's internal topics (${TOPIC_PREFIX}*: apps' changelogs and dead letters), which cannot be granted.`, {
      exitCode: ExitCode.invalid,
      hint: `Grant the tenant's own topics by name or by a prefix that does not start ${TOPIC_PREFIX} (e.g. orders or 'orders.*'); an app reads its own changelog without a grant.`,
    });
  }
  return value;
}


/** The candidate closest to `value` when it is likely a typo of it. */
export const closestName = closest;

// The Pod Security level of the namespace the broker makes for an instance (per-instance
// strategy): `restricted` unless the plan's `pod_security` asks for less, so that an offering's
// privileged container or hostPath volume does not run unnoticed. The fixed and context
// strategies use namespaces the operator labels.
import type { FieldProblem } from './osb.js';

export const POD_SECURITY_LEVELS = ['restricted', 'baseline', 'privileged'] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** The plan.json field (a broker extension; it passes through to the OSB catalog like any other). */
export const POD_SECURITY_FIELD = 'pod_security';
export const DEFAULT_POD_SECURITY: PodSecurityLevel = 'restricted';

const isLevel = (v: unknown): v is PodSecurityLevel => (POD_SECURITY_LEVELS as readonly unknown[]).includes(v);

/** The plan's level; a problem when the field is there and not a level. */
export function planPodSecurity(body: Record<string, unknown>): { level: PodSecurityLevel; problem?: FieldProblem } {
  const value = body[POD_SECURITY_FIELD];
  if (value === undefined || isLevel(value)) return { level: value ?? DEFAULT_POD_SECURITY };
  return {
    level: DEFAULT_POD_SECURITY,
    problem: { field: POD_SECURITY_FIELD, message: `must be one of ${POD_SECURITY_LEVELS.join(', ')}, got ${JSON.stringify(value)}` },
  };
}

/** Labels of a namespace whose pods must meet `level`: refused otherwise, and the apply warned. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/warn': level };
}

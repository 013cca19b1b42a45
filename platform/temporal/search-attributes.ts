// Custom search attributes every workflow sets, so an operator finds an instance's
// workflows in the Temporal UI (`KbInstanceId = "..."`). The one list of them: the worker creates
// them at start (register-search-attributes.ts), scripts/stack/up.sh reads them from here.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const KbInstanceId = defineSearchAttributeKey('KbInstanceId', SearchAttributeType.KEYWORD);
export const KbBindingId = defineSearchAttributeKey('KbBindingId', SearchAttributeType.KEYWORD);
export const KbService = defineSearchAttributeKey('KbService', SearchAttributeType.KEYWORD);
export const KbPlan = defineSearchAttributeKey('KbPlan', SearchAttributeType.KEYWORD);
export const KbOrg = defineSearchAttributeKey('KbOrg', SearchAttributeType.KEYWORD);
export const KbSpace = defineSearchAttributeKey('KbSpace', SearchAttributeType.KEYWORD);
export const KbOperation = defineSearchAttributeKey('KbOperation', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [KbInstanceId, KbBindingId, KbService, KbPlan, KbOrg, KbSpace, KbOperation];

/** The ids and names an operation is found by (service and plan by NAME, what operators search and graph by). */
export interface SearchableSubject {
  instanceId: string;
  bindingId?: string | undefined;
  service: string;
  plan: string;
  org: string;
  space: string;
}

/** The search attributes of a broker operation; pure, so that a workflow starting one as its child sets the same. */
export function operationSearchAttributes(operation: string, subject: SearchableSubject): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: KbInstanceId, value: subject.instanceId },
    { key: KbOperation, value: operation },
    { key: KbService, value: subject.service },
    { key: KbPlan, value: subject.plan },
  ];
  if (subject.bindingId) pairs.push({ key: KbBindingId, value: subject.bindingId });
  // Left out, not empty, when the platform sent no organization or space.
  if (subject.org) pairs.push({ key: KbOrg, value: subject.org });
  if (subject.space) pairs.push({ key: KbSpace, value: subject.space });
  return pairs;
}

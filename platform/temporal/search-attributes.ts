// Custom search attributes every workflow sets, so an operator finds an instance's
// workflows in the Temporal UI (`KbInstanceId = "..."`). The one list of them: the worker creates
// them at start (register-search-attributes.ts), scripts/stack/up.sh reads them from here.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const KbInstanceId = defineSearchAttributeKey('KbInstanceId', SearchAttributeType.KEYWORD);
export const KbBindingId = defineSearchAttributeKey('KbBindingId', SearchAttributeType.KEYWORD);
export const KbService = defineSearchAttributeKey('KbService', SearchAttributeType.KEYWORD);
export const KbPlan = defineSearchAttributeKey('KbPlan', SearchAttributeType.KEYWORD);
export const KbOrg = defineSearchAttributeKey('KbOrg', SearchAttributeType.KEYWORD);
export const KbSpace = defineSearchAttributeKey('KbSpace', SearchAttributeType.KEYWORD);
export const KbOperation = defineSearchAttributeKey('KbOperation', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [KbInstanceId, KbBindingId, KbService, KbPlan, KbOrg, KbSpace, KbOperation];

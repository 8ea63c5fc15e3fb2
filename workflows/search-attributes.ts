import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes let an operator filter workflows in the Temporal Web UI.
 * They are visible to anyone with Web UI access, so they never carry holder ID numbers.
 */
export const CertType = defineSearchAttributeKey('CertType', SearchAttributeType.KEYWORD);
export const Department = defineSearchAttributeKey('Department', SearchAttributeType.KEYWORD);
export const ApplicationStatus = defineSearchAttributeKey('ApplicationStatus', SearchAttributeType.KEYWORD);

/** A bulk import's state (docs/import.md): `ImportStatus = "running"`; its rows done are in the memo and details. */
export const ImportStatus = defineSearchAttributeKey('ImportStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [CertType, Department, ApplicationStatus, ImportStatus];

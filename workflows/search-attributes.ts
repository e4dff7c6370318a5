/**
 * Custom search attributes the workflows set. The local stack registers them when it starts
 * the Temporal dev server; a production namespace needs them created once
 * (`temporal operator search-attribute create --name TenureProcess --type Keyword`, and likewise
 * each key of SEARCH_ATTRIBUTES).
 * No Node imports: this module is part of the workflow bundle.
 */
import { defineSearchAttributeKey } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  TenureProcess: 'Keyword',
  TenureSubject: 'Keyword',
  TenureStatus: 'Keyword',
} as const;

/** The kind of process: onboarding, offboarding, reactivation, bulk-offboarding, system-check. */
export const TENURE_PROCESS = defineSearchAttributeKey('TenureProcess', 'KEYWORD');
/** Who the process is about: a user id or an email address. */
export const TENURE_SUBJECT = defineSearchAttributeKey('TenureSubject', 'KEYWORD');
/**
 * Where the process stands: an offboarding's `status`, an onboarding's `state`. A list can pick the
 * offboardings waiting for an approver, and a reader can tell that nothing changed without a query.
 */
export const TENURE_STATUS = defineSearchAttributeKey('TenureStatus', 'KEYWORD');

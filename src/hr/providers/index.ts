import type { HrProvider } from '../events';
import { bambooHrProvider } from './bamboohr';
import { genericProvider } from './generic';
import { personioProvider } from './personio';
import type { HrProviderAdapter } from './types';

export const HR_PROVIDER_ADAPTERS: Readonly<Record<HrProvider, HrProviderAdapter>> = {
  generic: genericProvider,
  bamboohr: bambooHrProvider,
  personio: personioProvider,
};

export type { HrProviderAdapter, WebhookDelivery } from './types';
export { signGeneric, GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER } from './generic';
export { signBambooHr, BAMBOOHR_SIGNATURE_HEADER, BAMBOOHR_TIMESTAMP_HEADER } from './bamboohr';

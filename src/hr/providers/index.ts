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

export type { HrProviderAdapter } from './types';
export { signGeneric } from './generic';
export { signBambooHr } from './bamboohr';

// The single entry of the workflow bundle: every workflow type the worker registers.
export { systemCheckWorkflow } from './system-check';
export * from './onboarding';
export * from './offboarding';
export { reactivationWorkflow } from './reactivation';
export { bulkOffboardingWorkflow } from './bulk-offboarding';

// Onboarding workflow (issue: onboarding).
export {};

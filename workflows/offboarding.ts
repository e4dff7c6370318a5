// Offboarding workflows (issue: offboarding).
export {};

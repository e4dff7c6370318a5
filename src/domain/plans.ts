/** Plan-based active-user limits. Pure: no I/O. */
export const PLANS = ['Starter', 'Professional', 'Enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export const ACTIVE_USER_LIMITS: Readonly<Record<Plan, number>> = {
  Starter: 5,
  Professional: 25,
  Enterprise: Number.POSITIVE_INFINITY,
};

/** How many more users may become active (or be invited to become active) on this plan. */
export function remainingSeats(plan: Plan, activeAndPending: number): number {
  return Math.max(0, ACTIVE_USER_LIMITS[plan] - activeAndPending);
}

export function withinPlan(plan: Plan, activeAndPending: number, adding = 1): boolean {
  return activeAndPending + adding <= ACTIVE_USER_LIMITS[plan];
}

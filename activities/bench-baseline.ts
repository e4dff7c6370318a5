/** The benchmark baseline's activity: does nothing, so its cost is Temporal's alone. */
export function benchBaselineActivities() {
  return {
    async noopActivity(i: number): Promise<number> {
      return i;
    },
  };
}

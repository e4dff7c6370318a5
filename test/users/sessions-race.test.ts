/** One active session per account even when logins race. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, introspectSession } from '../../src/services/sessions';
import { createTestContext, type TestContext } from '../helpers/context';
import { seedUser } from '../helpers/users';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext('sessionrace');
});

afterAll(async () => {
  await ctx?.close();
});

describe('racing logins', () => {
  it('leave exactly one active session: the newest', async () => {
    const { user } = await seedUser(ctx.models, { email: 'racer@example.com' });
    for (let round = 0; round < 10; round++) {
      const sessions = await Promise.all(Array.from({ length: 6 }, () => createSession(ctx.models, user._id, { ip: '127.0.0.1' }, { type: 'system' })));
      const states = await Promise.all(sessions.map((s) => introspectSession(ctx.models, s.secret)));
      expect(states.filter((s) => s.active)).toHaveLength(1);
      const newest = sessions.map((s) => s.sessionId).sort().at(-1);
      expect(states.find((s) => s.active)?.sessionId).toBe(newest);
      expect(await ctx.models.Session.countDocuments({ userId: user._id, endedAt: null })).toBe(1);
    }
  });
});

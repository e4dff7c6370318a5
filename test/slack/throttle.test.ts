import { describe, expect, it } from 'vitest';
import { ChannelThrottle } from '../../src/slack/throttle';

describe('ChannelThrottle', () => {
  it('spaces calls to one channel and runs them in order', async () => {
    const throttle = new ChannelThrottle(200);
    const starts: Array<[string, number]> = [];
    await Promise.all(
      ['a1', 'a2', 'a3'].map((name) =>
        throttle.run('A', async () => {
          starts.push([name, Date.now()]);
        }),
      ),
    );
    expect(starts.map(([n]) => n)).toEqual(['a1', 'a2', 'a3']);
    expect(starts[1]![1] - starts[0]![1]).toBeGreaterThanOrEqual(190);
    expect(starts[2]![1] - starts[1]![1]).toBeGreaterThanOrEqual(190);
  });

  it('does not make other channels wait', async () => {
    const throttle = new ChannelThrottle(500);
    const starts: Record<string, number> = {};
    await Promise.all([
      throttle.run('A', async () => void (starts.a1 = Date.now())),
      throttle.run('A', async () => void (starts.a2 = Date.now())),
      throttle.run('B', async () => void (starts.b1 = Date.now())),
    ]);
    expect(starts.b1! - starts.a1!).toBeLessThan(400);
    expect(starts.a2! - starts.a1!).toBeGreaterThanOrEqual(490);
  });

  it('keeps going after a failed call', async () => {
    const throttle = new ChannelThrottle(10);
    await expect(throttle.run('A', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(throttle.run('A', async () => 'next')).resolves.toBe('next');
  });
});

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
    const order: string[] = [];
    const starts: Record<string, number> = {};
    const call = (channel: string, name: string) =>
      throttle.run(channel, async () => {
        order.push(name);
        starts[name] = Date.now();
      });
    await Promise.all([call('A', 'a1'), call('A', 'a2'), call('B', 'b1')]);
    // B's first call runs while A's second still waits out A's spacing.
    expect(order).toEqual(['a1', 'b1', 'a2']);
    expect(starts.a2! - starts.a1!).toBeGreaterThanOrEqual(490);
  });

  it('keeps going after a failed call', async () => {
    const throttle = new ChannelThrottle(10);
    await expect(throttle.run('A', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(throttle.run('A', async () => 'next')).resolves.toBe('next');
  });
});

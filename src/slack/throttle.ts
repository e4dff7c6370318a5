/**
 * Slack allows about one message per second per channel. Calls for the same channel are run one
 * after another, at least `intervalMs` apart; different channels do not wait for each other.
 * (HTTP 429 with Retry-After is handled by the WebClient's retry policy.)
 */
export class ChannelThrottle {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs = 1_000) {}

  run<T>(channel: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const wait = (this.last.get(channel) ?? 0) + this.intervalMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        try {
          return await fn();
        } finally {
          this.last.set(channel, Date.now());
        }
      });
    this.tails.set(channel, next);
    const forget = () => {
      if (this.tails.get(channel) === next) this.tails.delete(channel);
    };
    next.then(forget, forget);
    return next;
  }
}

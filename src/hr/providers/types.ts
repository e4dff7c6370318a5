import type { Config } from '../../config/env';
import type { HrEvent, HrProvider } from '../events';

interface WebhookDelivery {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  now: number;
}

/** One HR system's webhook scheme: how a delivery is authenticated and mapped to generic events. */
export interface HrProviderAdapter {
  name: HrProvider;
  /** The configured secret or token; undefined when the provider is not set up. */
  secret(config: Config): string | undefined;
  /** Throws UnauthorizedError when the delivery is not authentic or too old. */
  authenticate(delivery: WebhookDelivery, secret: string): void;
  /** Maps the (already authenticated) body to generic events; throws ValidationError on a malformed one. */
  parse(delivery: WebhookDelivery): HrEvent[];
}

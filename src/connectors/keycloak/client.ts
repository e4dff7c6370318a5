/**
 * The Admin REST API through Keycloak's own client library, signed in with the connector's
 * client credentials, with every failure mapped onto the contract's two errors.
 */
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { ConnectorRefusedError, SystemUnavailableError } from '../contract';
import type { KeycloakConnectorOptions } from './options';

export const SYSTEM = 'keycloak';

/** A request the system answered with an error that is neither unavailability nor a refusal (404, 409, 400). */
export class KeycloakRequestError extends Error {
  override readonly name = 'KeycloakRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Network errors, timeouts and 5xx: unavailable; 401/403: refused; other answers: KeycloakRequestError. */
function mapError(err: unknown, what: string): Error {
  if (err instanceof SystemUnavailableError || err instanceof ConnectorRefusedError || err instanceof KeycloakRequestError) return err;
  const e = err as { response?: { status?: number }; responseData?: unknown; name?: string; message?: string };
  const status = e.response?.status;
  if (typeof status === 'number') {
    const detail = describe(e.responseData) ?? e.message ?? '';
    if (status === 401 || status === 403) {
      return new ConnectorRefusedError(SYSTEM, `Keycloak refused ${what} (${status}${detail ? `: ${detail}` : ''}); check the client's id, secret and its realm-management roles.`);
    }
    if (status >= 500 || status === 429) return new SystemUnavailableError(SYSTEM, `Keycloak answered ${status} to ${what}.`);
    return new KeycloakRequestError(status, `Keycloak answered ${status} to ${what}${detail ? `: ${detail}` : ''}.`);
  }
  // fetch's TypeError ("fetch failed"), AbortSignal.timeout's TimeoutError, a reset connection.
  return new SystemUnavailableError(SYSTEM, `Keycloak could not be reached for ${what} (${e.message ?? String(err)}).`);
}

function describe(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return typeof data === 'string' && data ? data.slice(0, 200) : undefined;
  const d = data as { error?: string; errorMessage?: string; error_description?: string };
  return d.errorMessage ?? d.error_description ?? d.error;
}

/** One signed-in admin client per connector; the access token is fetched again once it expires. */
export class KeycloakApi {
  private client: KcAdminClient;
  private signedIn = false;

  constructor(private readonly options: KeycloakConnectorOptions) {
    this.client = new KcAdminClient({
      baseUrl: options.url.replace(/\/+$/, ''),
      realmName: options.realm,
      timeout: options.timeoutMs ?? 10_000,
    });
  }

  /** Runs one Admin REST call with a valid token, mapping its failure. */
  async call<T>(what: string, fn: (kc: KcAdminClient) => Promise<T>): Promise<T> {
    try {
      if (!this.signedIn || this.client.isTokenExpired()) {
        await this.client.auth({ grantType: 'client_credentials', clientId: this.options.clientId, clientSecret: this.options.clientSecret });
        this.signedIn = true;
      }
    } catch (err) {
      const mapped = mapError(err, 'the client credentials sign-in');
      // A wrong secret or an unknown client is 401 invalid_client; a disabled client 400 unauthorized_client.
      if (mapped instanceof KeycloakRequestError) throw new ConnectorRefusedError(SYSTEM, mapped.message);
      throw mapped;
    }
    try {
      return await fn(this.client);
    } catch (err) {
      throw mapError(err, what);
    }
  }
}

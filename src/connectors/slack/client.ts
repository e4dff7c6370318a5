/**
 * Slack's Web API through its own client (`@slack/web-api`'s WebClient) and its SCIM 2.0 API,
 * with every failure mapped onto the contract's two errors. The WebClient does not retry and does
 * not wait out rate limits itself: Temporal retries the activity, after Slack's Retry-After.
 */
import { ErrorCode, LogLevel, WebClient, type WebAPICallError } from '@slack/web-api';
import { ConnectorRefusedError, SystemUnavailableError } from '../contract';
import { DEFAULT_SLACK_API_URL, DEFAULT_SLACK_SCIM_URL, type SlackConnectorOptions } from './options';

export const SYSTEM = 'slack';

/** An answer that is neither unavailability nor a refusal (user_not_found, no_such_subteam, a SCIM 404). */
export class SlackRequestError extends Error {
  override readonly name = 'SlackRequestError';
  constructor(
    /** Slack's error code (`user_not_found`) or the SCIM answer's HTTP status (`404`). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Slack error codes that retrying cannot fix: the token, its scopes or the plan. */
const REFUSALS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
  'missing_scope',
  'no_permission',
  'not_an_admin',
  'access_denied',
  'ekm_access_denied',
  'team_access_not_granted',
  'feature_not_enabled',
  'paid_only',
]);

/** Slack error codes that mean "later". */
const UNAVAILABLE = new Set(['ratelimited', 'fatal_error', 'internal_error', 'service_unavailable', 'request_timeout']);

function mapWebError(err: unknown, what: string): Error {
  if (err instanceof SystemUnavailableError || err instanceof ConnectorRefusedError || err instanceof SlackRequestError) return err;
  const e = err as WebAPICallError;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new SystemUnavailableError(SYSTEM, `Slack rate-limited ${what} (retry after ${e.retryAfter} s).`, e.retryAfter * 1000);
    case ErrorCode.HTTPError:
      if (e.statusCode === 401 || e.statusCode === 403) return new ConnectorRefusedError(SYSTEM, `Slack refused ${what} (HTTP ${e.statusCode}).`);
      return new SystemUnavailableError(SYSTEM, `Slack answered HTTP ${e.statusCode} to ${what}.`);
    case ErrorCode.RequestError:
      return new SystemUnavailableError(SYSTEM, `Slack could not be reached for ${what} (${e.original?.message ?? e.message}).`);
    case ErrorCode.PlatformError: {
      const code = e.data.error;
      const wanted = (e.data as { needed?: unknown }).needed;
      const needed = typeof wanted === 'string' ? `; the token needs ${wanted}` : '';
      if (REFUSALS.has(code)) return new ConnectorRefusedError(SYSTEM, `Slack refused ${what} (${code}${needed}); check SLACK_ADMIN_TOKEN, its scopes and the plan.`);
      if (UNAVAILABLE.has(code)) return new SystemUnavailableError(SYSTEM, `Slack answered ${code} to ${what}.`);
      return new SlackRequestError(code, `Slack answered ${code} to ${what}.`);
    }
    default:
      return new SystemUnavailableError(SYSTEM, `Slack could not be reached for ${what} (${(err as Error)?.message ?? String(err)}).`);
  }
}

/** The reason in a SCIM error body: SCIM 2.0's `detail`, or SCIM 1.1's `Errors.description`. */
function scimDetail(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { detail?: string; Errors?: { description?: string } | Array<{ description?: string }> };
    const errors = Array.isArray(body.Errors) ? body.Errors[0] : body.Errors;
    return body.detail ?? errors?.description;
  } catch {
    return text ? text.slice(0, 200) : undefined;
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export class SlackApi {
  readonly web: WebClient;
  private readonly scimBase: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: SlackConnectorOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.web = new WebClient(options.token, {
      slackApiUrl: options.apiUrl ?? DEFAULT_SLACK_API_URL,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: this.timeoutMs,
      allowAbsoluteUrls: false,
      logLevel: LogLevel.ERROR,
    });
    this.scimBase = (options.scimUrl ?? DEFAULT_SLACK_SCIM_URL).replace(/\/*$/, '/');
  }

  /** One Web API call, its failure mapped. */
  async call<T>(what: string, fn: (web: WebClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.web);
    } catch (err) {
      throw mapWebError(err, what);
    }
  }

  /**
   * One SCIM call on Users/{id}. Answers 2xx with the body (if any); 404 as `null`; throws the
   * contract's errors for 401/403 (refused) and 429/5xx/network (unavailable), SlackRequestError otherwise.
   */
  async scimUser(verb: 'GET' | 'DELETE' | 'PATCH', userId: string, what: string, body?: unknown): Promise<{ active?: boolean } | null> {
    let res: Response;
    try {
      res = await fetch(`${this.scimBase}Users/${encodeURIComponent(userId)}`, {
        method: verb,
        headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SystemUnavailableError(SYSTEM, `Slack's SCIM API could not be reached for ${what} (${(err as Error).message}).`);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return text ? (JSON.parse(text) as { active?: boolean }) : {};
    if (res.status === 404) return null;
    const detail = scimDetail(text);
    if (res.status === 401 || res.status === 403) {
      throw new ConnectorRefusedError(SYSTEM, `Slack's SCIM API refused ${what} (${res.status}${detail ? `: ${detail}` : ''}); the token needs the admin scope and an Owner or Admin behind it.`);
    }
    if (res.status === 429 || res.status >= 500) {
      throw new SystemUnavailableError(SYSTEM, `Slack's SCIM API answered ${res.status} to ${what}.`, res.status === 429 ? retryAfterMs(res.headers.get('retry-after')) : undefined);
    }
    throw new SlackRequestError(String(res.status), `Slack's SCIM API answered ${res.status} to ${what}${detail ? `: ${detail}` : ''}.`);
  }
}

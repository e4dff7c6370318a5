/**
 * The only module that reads process.env. The environment is validated once at start-up;
 * a bad value stops the process with one line per problem.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import { canonicalTimeZone, isTimeZone } from '../domain/time-zone';
import { parseDuration } from './duration';
import { parseReceiverAllowList } from '../domain/receiver-address';
import { decodeEncryptionKey } from '../domain/encryption-key';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 30s, 15m, 12h or 7d` });
        return z.NEVER;
      }
      return ms;
    });

/** A request limit per client address and window; 0 turns the limit off. */
const rateLimit = (fallback: number) => z.coerce.number().int().min(0).max(1_000_000).default(fallback);
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
/** Shortest value accepted for any secret: a shared secret or token is only as strong as it is long. */
const MIN_SECRET_LENGTH = 16;
/** Every secret tenure reads goes through this one rule; the refusal names the variable, never the value. */
const secret = () => z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters long (use a random value, e.g. openssl rand -hex 32)`).optional();
const ENCRYPTION_KEY_RULE = 'must be 32 random bytes in base64 (e.g. openssl rand -base64 32)';
/** A data-encryption key: a secret, and exactly 32 bytes in base64. */
const encryptionKey = () => secret().refine((value) => value === undefined || value.length < MIN_SECRET_LENGTH || decodeEncryptionKey(value) !== undefined, ENCRYPTION_KEY_RULE);
const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

/** The connected systems `npm start` can run on this machine (TENURE_LOCAL_CONNECTORS). */
const LOCAL_CONNECTORS = ['keycloak', 'gitea'] as const;
export type LocalConnector = (typeof LOCAL_CONNECTORS)[number];

const envObject = z.object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: port(3000),
    /** Base of links sent to people (invitation accept links). */
    PUBLIC_BASE_URL: url(['http:', 'https:']).default('http://localhost:3000'),
    HTTP_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),

    MONGODB_URI: url(['mongodb:', 'mongodb+srv:']),
    MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only').default('tenure'),

    REDIS_URL: url(['redis:', 'rediss:']),
    REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . and - only').default('tenure'),

    TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('tenure'),
    /** A prebuilt workflow bundle (npm run build:workflows); without it the worker bundles at start. */
    TEMPORAL_WORKFLOW_BUNDLE: z.string().min(1).optional(),

    SMTP_URL: url(['smtp:', 'smtps:']).default('smtp://127.0.0.1:1025'),
    MAIL_FROM: z.string().min(3).default('tenure <no-reply@localhost>'),

    SLACK_BOT_TOKEN: secret(),
    SLACK_SIGNING_SECRET: secret(),
    SLACK_APP_TOKEN: secret(),
    /** Where the Slack Web API is reached (by the bot and the Slack connector); overridden only by tests. */
    SLACK_API_URL: url(['http:', 'https:']).default('https://slack.com/api/'),
    /** How often Slack approval requests and progress messages are brought up to date. */
    SLACK_SYNC_INTERVAL: duration('5s'),

    /** HR webhooks: HMAC secret of the generic provider (unset: the provider answers 503 hr_provider_not_configured). */
    HR_GENERIC_SECRET: secret(),
    /** HR webhooks: the private key BambooHR shows when the webhook is created. */
    HR_BAMBOOHR_SECRET: secret(),
    /** HR webhooks: the bearer token an HR system that cannot sign (Personio) sends. */
    HR_PERSONIO_TOKEN: secret(),
    /**
     * The organization's time zone (IANA name, checked against the platform's time-zone data):
     * an HR last day ends at the end of that day here.
     */
    ORGANIZATION_TIME_ZONE: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin, America/New_York or UTC')
      .transform(canonicalTimeZone),
    /** Whether an HR termination locks the leaver out at once (before the last day). */
    HR_TERMINATION_LOCKOUT: z.enum(['true', 'false', '1', '0']).default('true').transform((v) => v === 'true' || v === '1'),
    /** Attempts of an HR intake job before it fails for good (exponential backoff between them). */
    HR_INTAKE_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
    HR_INTAKE_BACKOFF: duration('2s'),
    /** How often the HR reconciliation sweep looks for terminated-but-active users. */
    RECONCILIATION_INTERVAL: duration('1h'),
    /** Outbound webhooks: how often the outbox reads new lifecycle entries from the audit log. */
    WEBHOOK_OUTBOX_INTERVAL: duration('2s'),
    /** Outbound webhooks: attempts of one delivery before it is dead-lettered (exponential backoff from WEBHOOK_BACKOFF). */
    WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
    WEBHOOK_BACKOFF: duration('10s'),
    /** Outbound webhooks: how long one delivery waits for the receiver's answer. */
    WEBHOOK_TIMEOUT: duration('10s'),
    /** Outbound webhooks: the private networks (CIDRs, addresses) and host names receivers may be on (comma list); unset: none in production, loopback elsewhere. */
    WEBHOOK_ALLOWED_PRIVATE_NETWORKS: z
      .string()
      .transform((text, ctx) => {
        const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
        try {
          parseReceiverAllowList(entries);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
        return entries;
      })
      .optional(),
    /** The key that seals secrets tenure must read back (webhook signing secrets): 32 bytes in base64. */
    TENURE_ENCRYPTION_KEY: encryptionKey(),
    /** Retired encryption keys (comma list), still opening what they sealed until the worker re-seals it. */
    TENURE_ENCRYPTION_KEYS_PREVIOUS: z
      .string()
      .transform((text, ctx) => {
        const keys = text.split(',').map((key) => key.trim()).filter(Boolean);
        keys.forEach((key, index) => {
          const checked = encryptionKey().safeParse(key);
          if (!checked.success) ctx.addIssue({ code: 'custom', message: `entry ${index + 1} ${checked.error.issues[0]?.message ?? ENCRYPTION_KEY_RULE}` });
        });
        return keys;
      })
      .optional(),
    /** SCIM: the bearer token identity providers send (an Administrator's API token works too). */
    SCIM_BEARER_TOKEN: secret(),

    /** Offboarding: remind the approver after this long without an answer. */
    OFFBOARDING_APPROVAL_REMINDER: duration('1d'),
    /** Offboarding: escalate to Administrators after this long without an answer. */
    OFFBOARDING_APPROVAL_ESCALATION: duration('3d'),
    /** Offboarding: how long after deactivation an undo is still accepted. */
    OFFBOARDING_UNDO_GRACE: duration('7d'),
    /** Offboarding: after access was left behind in a connected system, how often it is tried again (24 times at most). */
    OFFBOARDING_SYSTEM_RETRY: duration('1h'),
    /** Offboarding: how long reading one connected system for the plan may take before the plan names it unreadable. */
    OFFBOARDING_SYSTEM_READ_TIMEOUT: duration('30s'),
    /** Bulk offboarding: how many leavers are processed at once. */
    BULK_OFFBOARDING_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),

    /** How often the invitation-expiry sweep looks for expired invitations no onboarding process covers. */
    INVITATION_SWEEP_INTERVAL: duration('5m'),
    /** How long an Idempotency-Key is remembered from its first use; a request with an older key is a new request. */
    IDEMPOTENCY_KEY_TTL: duration('24h'),
    /** How often the sweep deletes Idempotency-Key records older than IDEMPOTENCY_KEY_TTL. */
    IDEMPOTENCY_SWEEP_INTERVAL: duration('1h'),

    /** Worker process: serve GET /healthz on this loopback port for container health checks (unset: off). */
    WORKER_HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Worker process: the address the health port listens on (0.0.0.0 to be scraped from another host). */
    WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * Worker process: the Temporal SDK runtime's Prometheus exporter listens on 127.0.0.1:<port>;
     * its series are part of the worker's /metrics (unset: a free port when WORKER_HEALTH_PORT is set).
     */
    TEMPORAL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** API: the bearer token Prometheus sends to GET /metrics (unset: 503 metrics_not_configured). */
    METRICS_TOKEN: secret(),

    /**
     * Tracing (OpenTelemetry): the OTLP/HTTP collector's base URL; spans go to <url>/v1/traces as
     * JSON. Unset: tracing is off (no spans are made or sent).
     */
    OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
    /** The service name spans carry (default tenure-api or tenure-worker, by process). */
    OTEL_SERVICE_NAME: z.string().min(1).max(100).optional(),

    /** API rate limits, per client address and window (0: off); counted in Redis, so shared by every API process. */
    RATE_LIMIT_WINDOW: duration('1m'),
    RATE_LIMIT_INVITATIONS: rateLimit(30),
    /** Console sign-in: asking for a sign-in link (it sends mail) and using one. */
    RATE_LIMIT_CONSOLE_SIGN_IN: rateLimit(30),
    RATE_LIMIT_HR_WEBHOOKS: rateLimit(600),
    RATE_LIMIT_SCIM: rateLimit(1200),
    /** Failed authentications (401) per address and window before the address's authenticated requests get 429. */
    RATE_LIMIT_AUTH_FAILURES: rateLimit(30),
    /** API load shedding: 503 while the event loop's delay (99th percentile over half a second) exceeds this (0: off). */
    HTTP_SHED_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),

    /** Gitea connector: the code host's base URL and a site administrator's access token (both or neither). */
    GITEA_URL: url(['http:', 'https:']).optional(),
    GITEA_TOKEN: secret(),
    /** Gitea connector: who receives a leaver's repositories when the new owner has no Gitea account (a user or organization). */
    GITEA_FALLBACK_OWNER: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be a Gitea user or organization name').optional(),

    /** Keycloak connector (all four or none): the server, the realm people live in, and a confidential client with a service account holding realm-management's manage-users. */
    KEYCLOAK_URL: url(['http:', 'https:']).optional(),
    KEYCLOAK_REALM: z.string().regex(/^[^\s/]{1,255}$/, 'must be a realm name (no spaces or slashes)').optional(),
    KEYCLOAK_CLIENT_ID: z.string().min(1).max(255).optional(),
    KEYCLOAK_CLIENT_SECRET: secret(),

    /**
     * Slack connector: a Workspace or Org Owner's/Admin's user token with the admin (SCIM) and user-group
     * scopes (see README, Connected systems → Slack); the Web API is reached at SLACK_API_URL.
     */
    SLACK_ADMIN_TOKEN: secret(),
    /** Slack connector: the SCIM 2.0 API's base (unset: Slack's, https://api.slack.com/scim/v2/); needs SLACK_ADMIN_TOKEN. */
    SLACK_SCIM_URL: url(['http:', 'https:']).optional(),

    /** Where `npm start` keeps the local servers' data (default: .tenure/data in the checkout). */
    TENURE_DATA_DIR: z.string().min(1).optional(),
    /** `npm start` only: the connected systems it runs locally and wires to the worker (comma list of keycloak, gitea). */
    TENURE_LOCAL_CONNECTORS: z
      .string()
      .transform((text, ctx) => {
        const names = text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
        const unknown = names.filter((name) => !(LOCAL_CONNECTORS as readonly string[]).includes(name));
        if (unknown.length > 0) {
          ctx.addIssue({ code: 'custom', message: `names ${unknown.map((name) => `"${name}"`).join(', ')}, which npm start cannot run; it runs ${LOCAL_CONNECTORS.join(' and ')} (a comma list such as keycloak,gitea)` });
          return z.NEVER;
        }
        return [...new Set(names)] as LocalConnector[];
      })
      .optional(),
});

/** Every setting tenure reads. */
export const CONFIG_KEYS: readonly string[] = Object.keys(envObject.shape);

const envSchema = envObject.superRefine((env, ctx) => {
    if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for Socket Mode)' });
    }
    if (!env.SLACK_BOT_TOKEN && (env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN)) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set' });
    }
    if (env.GITEA_URL && !env.GITEA_TOKEN) ctx.addIssue({ code: 'custom', path: ['GITEA_TOKEN'], message: 'is required with GITEA_URL (a Gitea site administrator\'s access token)' });
    if (!env.GITEA_URL && (env.GITEA_TOKEN || env.GITEA_FALLBACK_OWNER)) {
      ctx.addIssue({ code: 'custom', path: ['GITEA_URL'], message: `is required when ${env.GITEA_TOKEN ? 'GITEA_TOKEN' : 'GITEA_FALLBACK_OWNER'} is set` });
    }
    if (env.SLACK_SCIM_URL && !env.SLACK_ADMIN_TOKEN) ctx.addIssue({ code: 'custom', path: ['SLACK_ADMIN_TOKEN'], message: 'is required when SLACK_SCIM_URL is set (the Slack connector\'s token)' });
    if (env.TENURE_ENCRYPTION_KEYS_PREVIOUS?.length && !env.TENURE_ENCRYPTION_KEY) {
      ctx.addIssue({ code: 'custom', path: ['TENURE_ENCRYPTION_KEY'], message: 'is required when TENURE_ENCRYPTION_KEYS_PREVIOUS is set (the key that seals from now on)' });
    }
    const keycloak = ['KEYCLOAK_URL', 'KEYCLOAK_REALM', 'KEYCLOAK_CLIENT_ID', 'KEYCLOAK_CLIENT_SECRET'] as const;
    if (keycloak.some((key) => env[key] !== undefined)) {
      for (const key of keycloak) {
        if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `is required when any of ${keycloak.join(', ')} is set (the Keycloak connector needs all four)` });
      }
    }
  });

export type Config = z.output<typeof envSchema>;

/** Parses the environment; throws ConfigError listing every bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.') || '(environment)';
        const message = issue.code === 'invalid_type' && cleaned[key] === undefined ? 'is required' : issue.message;
        return `${key} ${message}`;
      }),
    );
  }
  return result.data;
}

export function slackEnabled(config: Config): boolean {
  return !!config.SLACK_BOT_TOKEN;
}

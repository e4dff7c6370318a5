import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, loadConfig } from '../../src/config/env';
import { parseDuration } from '../../src/config/duration';
import { ConfigError } from '../../src/errors';

const SLACK_BOT = 'xoxb-0000000000-test-bot-token';
const SLACK_SIGNING = '0123456789abcdef0123456789abcdef';
const base = { MONGODB_URI: 'mongodb://127.0.0.1:27017', REDIS_URL: 'redis://127.0.0.1:6379', TEMPORAL_ADDRESS: '127.0.0.1:7233' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('fills defaults around the three required addresses', () => {
    const config = loadConfig(base);
    expect(config.HTTP_PORT).toBe(3000);
    expect(config.MONGODB_DB).toBe('tenure');
    expect(config.TEMPORAL_TASK_QUEUE).toBe('tenure');
    expect(config.SLACK_BOT_TOKEN).toBeUndefined();
  });

  it('names every missing required value on its own line', () => {
    expect(problems({})).toEqual(['MONGODB_URI is required', 'REDIS_URL is required', 'TEMPORAL_ADDRESS is required']);
  });

  it('refuses bad values with one message each', () => {
    const found = problems({ ...base, HTTP_PORT: '70000', REDIS_URL: 'http://x', TEMPORAL_ADDRESS: 'nohost', LOG_LEVEL: 'loud' });
    expect(found).toHaveLength(4);
    expect(found.find((p) => p.startsWith('HTTP_PORT'))).toMatch(/65535/);
    expect(found.find((p) => p.startsWith('REDIS_URL'))).toMatch(/redis:\/\//);
    expect(found.find((p) => p.startsWith('TEMPORAL_ADDRESS'))).toMatch(/host:port/);
    expect(found.find((p) => p.startsWith('LOG_LEVEL'))).toBeDefined();
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ ...base, HTTP_PORT: '' }).HTTP_PORT).toBe(3000);
  });

  it('requires the Slack secrets together', () => {
    expect(problems({ ...base, SLACK_BOT_TOKEN: SLACK_BOT })).toEqual([expect.stringMatching(/^SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN/)]);
    expect(problems({ ...base, SLACK_SIGNING_SECRET: SLACK_SIGNING })).toEqual([expect.stringMatching(/^SLACK_BOT_TOKEN is required/)]);
    expect(loadConfig({ ...base, SLACK_BOT_TOKEN: SLACK_BOT, SLACK_SIGNING_SECRET: SLACK_SIGNING }).SLACK_BOT_TOKEN).toBe(SLACK_BOT);
  });

  it('requires the Gitea URL and token together, and the fallback owner only with them', () => {
    const token = '0123456789abcdef0123456789abcdef01234567';
    expect(problems({ ...base, GITEA_URL: 'http://127.0.0.1:3000' })).toEqual([expect.stringMatching(/^GITEA_TOKEN is required with GITEA_URL/)]);
    expect(problems({ ...base, GITEA_TOKEN: token })).toEqual(['GITEA_URL is required when GITEA_TOKEN is set']);
    expect(problems({ ...base, GITEA_FALLBACK_OWNER: 'archive' })).toEqual(['GITEA_URL is required when GITEA_FALLBACK_OWNER is set']);
    expect(problems({ ...base, GITEA_URL: 'git.example.com', GITEA_TOKEN: token })).toEqual([expect.stringMatching(/^GITEA_URL must be a URL/)]);
    expect(problems({ ...base, GITEA_URL: 'https://git.example.com', GITEA_TOKEN: token, GITEA_FALLBACK_OWNER: 'no spaces' })).toEqual([expect.stringMatching(/^GITEA_FALLBACK_OWNER must be a Gitea user or organization name/)]);
    const config = loadConfig({ ...base, GITEA_URL: 'https://git.example.com', GITEA_TOKEN: token, GITEA_FALLBACK_OWNER: 'archive' });
    expect([config.GITEA_URL, config.GITEA_TOKEN, config.GITEA_FALLBACK_OWNER]).toEqual(['https://git.example.com', token, 'archive']);
    expect(loadConfig(base).GITEA_URL).toBeUndefined();
  });

  it('takes the Slack connector\'s SCIM URL only with its token, and defaults it to Slack\'s', () => {
    const token = 'xoxp-0123456789-0123456789-abcdef';
    expect(problems({ ...base, SLACK_SCIM_URL: 'https://api.slack.com/scim/v2/' })).toEqual([expect.stringMatching(/^SLACK_ADMIN_TOKEN is required when SLACK_SCIM_URL is set/)]);
    expect(problems({ ...base, SLACK_ADMIN_TOKEN: token, SLACK_SCIM_URL: 'api.slack.com/scim' })).toEqual([expect.stringMatching(/^SLACK_SCIM_URL must be a URL/)]);
    expect(problems({ ...base, SLACK_ADMIN_TOKEN: 'xoxp-short' })).toEqual([expect.stringMatching(/^SLACK_ADMIN_TOKEN must be at least 16 characters/)]);
    const config = loadConfig({ ...base, SLACK_ADMIN_TOKEN: token });
    expect([config.SLACK_ADMIN_TOKEN, config.SLACK_SCIM_URL]).toEqual([token, undefined]);
  });

  it('hardening #4: every secret has a minimum length, and the refusal names the variable without its value', () => {
    const secrets = ['HR_GENERIC_SECRET', 'HR_BAMBOOHR_SECRET', 'HR_PERSONIO_TOKEN', 'SCIM_BEARER_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'METRICS_TOKEN', 'GITEA_TOKEN', 'KEYCLOAK_CLIENT_SECRET', 'SLACK_ADMIN_TOKEN'];
    // Every setting whose name says it holds a secret is in the list above.
    // (and the encryption key, a secret with a format of its own: its test is below; IDEMPOTENCY_KEY_TTL
    // is a duration named after the Idempotency-Key header, not a secret)
    const notSecrets = ['IDEMPOTENCY_KEY_TTL'];
    expect(CONFIG_KEYS.filter((k) => /SECRET|TOKEN|PASSWORD|(^|_)KEY(_|$)/.test(k) && !notSecrets.includes(k)).sort()).toEqual([...secrets, 'TENURE_ENCRYPTION_KEY'].sort());
    // Settings that come only with their companions (all or none).
    const companions: NodeJS.ProcessEnv = { KEYCLOAK_URL: 'http://127.0.0.1:8080', KEYCLOAK_REALM: 'acme', KEYCLOAK_CLIENT_ID: 'tenure', GITEA_URL: 'http://127.0.0.1:3000' };
    const full = { ...base, ...companions, KEYCLOAK_CLIENT_SECRET: 'a-strong-secret-0123456789', GITEA_TOKEN: 'a-strong-secret-0123456789' };
    for (const name of secrets) {
      for (const weak of ['Q', 'Zq7', 'W3ak-Secret-15c']) {
        const env = { ...full, SLACK_BOT_TOKEN: SLACK_BOT, SLACK_SIGNING_SECRET: SLACK_SIGNING, [name]: weak };
        const found = problems(env);
        expect(found, `${name}=${weak}`).toEqual([expect.stringMatching(new RegExp(`^${name} must be at least 16 characters`))]);
        expect(found[0]).not.toContain(weak);
      }
      const strong = 'a-strong-secret-0123456789';
      expect(loadConfig({ ...full, SLACK_BOT_TOKEN: SLACK_BOT, SLACK_SIGNING_SECRET: SLACK_SIGNING, [name]: strong })[name as keyof ReturnType<typeof loadConfig>]).toBe(strong);
    }
  });

  it('takes the encryption key as a secret of exactly 32 bytes in base64, and retired keys only beside a current one', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const retired = Buffer.alloc(32, 2).toString('base64url');
    expect(loadConfig({ ...base, TENURE_ENCRYPTION_KEY: key }).TENURE_ENCRYPTION_KEY).toBe(key);
    expect(loadConfig({ ...base, TENURE_ENCRYPTION_KEY: key, TENURE_ENCRYPTION_KEYS_PREVIOUS: ` ${retired} ,` }).TENURE_ENCRYPTION_KEYS_PREVIOUS).toEqual([retired]);
    for (const weak of ['Q', 'W3ak-Secret-15c']) {
      expect(problems({ ...base, TENURE_ENCRYPTION_KEY: weak })).toEqual([expect.stringMatching(/^TENURE_ENCRYPTION_KEY must be at least 16 characters/)]);
    }
    for (const wrong of ['a-strong-secret-0123456789', Buffer.alloc(31, 1).toString('base64'), Buffer.alloc(33, 1).toString('base64'), `${key}!`]) {
      const found = problems({ ...base, TENURE_ENCRYPTION_KEY: wrong });
      expect(found, wrong).toEqual([expect.stringMatching(/^TENURE_ENCRYPTION_KEY must be 32 random bytes in base64/)]);
      expect(found[0]).not.toContain(wrong);
    }
    expect(problems({ ...base, TENURE_ENCRYPTION_KEY: key, TENURE_ENCRYPTION_KEYS_PREVIOUS: `${retired},short` })).toEqual([expect.stringMatching(/^TENURE_ENCRYPTION_KEYS_PREVIOUS entry 2 must be at least 16 characters/)]);
    expect(problems({ ...base, TENURE_ENCRYPTION_KEYS_PREVIOUS: retired })).toEqual([expect.stringMatching(/^TENURE_ENCRYPTION_KEY is required when TENURE_ENCRYPTION_KEYS_PREVIOUS is set/)]);
  });

  it('takes the private networks webhook receivers may be on as CIDRs, addresses or host names, refusing anything else', () => {
    expect(loadConfig(base).WEBHOOK_ALLOWED_PRIVATE_NETWORKS).toBeUndefined();
    expect(loadConfig({ ...base, WEBHOOK_ALLOWED_PRIVATE_NETWORKS: '10.20.0.0/16, fd00::/8,192.168.1.7 ,hooks.corp.example' }).WEBHOOK_ALLOWED_PRIVATE_NETWORKS).toEqual(['10.20.0.0/16', 'fd00::/8', '192.168.1.7', 'hooks.corp.example']);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/x', 'fd00::/129', 'not a host', 'http://10.0.0.1/']) {
      const found = problems({ ...base, WEBHOOK_ALLOWED_PRIVATE_NETWORKS: `127.0.0.0/8,${bad}` });
      expect(found, bad).toEqual([expect.stringMatching(/^WEBHOOK_ALLOWED_PRIVATE_NETWORKS .* is neither a network/)]);
    }
  });

  it('takes the Keycloak connector settings all together or not at all, naming what is missing', () => {
    const keycloak = { KEYCLOAK_URL: 'http://127.0.0.1:8080', KEYCLOAK_REALM: 'acme', KEYCLOAK_CLIENT_ID: 'tenure', KEYCLOAK_CLIENT_SECRET: '0123456789abcdef0123' };
    expect(loadConfig({ ...base, ...keycloak })).toMatchObject(keycloak);
    expect(loadConfig(base).KEYCLOAK_URL).toBeUndefined();
    const missing = problems({ ...base, KEYCLOAK_URL: keycloak.KEYCLOAK_URL, KEYCLOAK_REALM: 'acme' });
    expect(missing.map((p) => p.split(' ')[0])).toEqual(['KEYCLOAK_CLIENT_ID', 'KEYCLOAK_CLIENT_SECRET']);
    expect(missing[0]).toMatch(/all four/);
    const bad = problems({ ...base, ...keycloak, KEYCLOAK_URL: 'ftp://sso', KEYCLOAK_REALM: 'a/b', KEYCLOAK_CLIENT_SECRET: 'short' });
    expect(bad.map((p) => p.split(' ')[0]).sort()).toEqual(['KEYCLOAK_CLIENT_SECRET', 'KEYCLOAK_REALM', 'KEYCLOAK_URL']);
    expect(bad.join('\n')).not.toContain('short');
  });

  it('takes the local connected systems of npm start as a comma list, refusing a name it cannot run', () => {
    expect(loadConfig(base).TENURE_LOCAL_CONNECTORS).toBeUndefined();
    expect(loadConfig({ ...base, TENURE_LOCAL_CONNECTORS: 'keycloak,gitea' }).TENURE_LOCAL_CONNECTORS).toEqual(['keycloak', 'gitea']);
    expect(loadConfig({ ...base, TENURE_LOCAL_CONNECTORS: ' Gitea , gitea,' }).TENURE_LOCAL_CONNECTORS).toEqual(['gitea']);
    const unknown = problems({ ...base, TENURE_LOCAL_CONNECTORS: 'keycloak,jira,okta' });
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatch(/^TENURE_LOCAL_CONNECTORS names "jira", "okta", which npm start cannot run; it runs keycloak and gitea/);
  });

  it('remembers Idempotency-Keys for 24 hours unless IDEMPOTENCY_KEY_TTL says otherwise, and refuses what is not a positive duration', () => {
    expect(loadConfig(base).IDEMPOTENCY_KEY_TTL).toBe(86_400_000);
    expect(loadConfig({ ...base, IDEMPOTENCY_KEY_TTL: '7d' }).IDEMPOTENCY_KEY_TTL).toBe(7 * 86_400_000);
    expect(loadConfig(base).IDEMPOTENCY_SWEEP_INTERVAL).toBe(3_600_000);
    for (const bad of ['forever', '0', '-1h', '24 hours']) {
      expect(problems({ ...base, IDEMPOTENCY_KEY_TTL: bad })).toEqual([`IDEMPOTENCY_KEY_TTL "${bad}" is not a duration such as 30s, 15m, 12h or 7d`]);
    }
    expect(problems({ ...base, IDEMPOTENCY_SWEEP_INTERVAL: 'hourly' })).toEqual([expect.stringMatching(/^IDEMPOTENCY_SWEEP_INTERVAL /)]);
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });
});

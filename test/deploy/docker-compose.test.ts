/** No Docker engine runs in CI, so the compose file is checked by reading it. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config/env';
import { WORKER_SHUTDOWN_GRACE_SECONDS } from '../../src/temporal/worker';
import { ENTRY_POINTS } from '../../scripts/lib/build';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
  restart?: string;
  stop_grace_period?: string;
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Compose durations (`45s`, `1m30s`) in seconds. */
function seconds(duration: string | undefined): number {
  const parts = [...(duration ?? '').matchAll(/(\d+)(h|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `${duration} is a compose duration`).toBe(duration);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'], 0);
}
const configKeys = new Set(CONFIG_KEYS);

describe('docker-compose.yml', () => {
  it('has the servers and the app', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'mailpit', 'mongo', 'redis', 'temporal', 'worker']);
    expect(services.mongo.image).toMatch(/^mongo:/);
    expect(services.redis.image).toMatch(/^redis:/);
    expect(services.temporal.image).toMatch(/^temporalio\//);
    expect(services.mailpit.image).toMatch(/mailpit/);
    expect(services.api.build).toBeDefined();
    expect(services.worker.build).toBeDefined();
  });

  it('pins every image to a version, never a moving tag, and tags the app images with the package version', () => {
    for (const [name, service] of Object.entries(services)) {
      const tag = service.image?.split(':')[1];
      expect(tag, `${name} image tag`).toMatch(/^v?\d+\.\d+\.\d+$/);
    }
    for (const app of ['api', 'worker']) {
      expect(services[app].image).toBe(`tenure-${app}:${version}`);
      expect(services[app].build, `${app} builds its own Dockerfile target`).toEqual({ context: '.', target: app });
    }
  });

  it('restarts every service, and gives the app a stop grace period longer than its drain', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(['always', 'unless-stopped', 'on-failure'], `${name} restart policy`).toContain(service.restart);
    }
    // Docker sends SIGKILL 10 s after SIGTERM unless told otherwise.
    expect(seconds(services.api.stop_grace_period)).toBeGreaterThan(10);
    expect(seconds(services.worker.stop_grace_period)).toBeGreaterThan(WORKER_SHUTDOWN_GRACE_SECONDS + 10);
  });

  it('runs the compiled processes with plain node', () => {
    for (const app of ['api', 'worker'] as const) {
      expect(services[app].command).toEqual(['node', '--enable-source-maps', `dist/${app}.js`]);
      expect(Object.keys(ENTRY_POINTS)).toContain(app);
    }
  });

  it('gives every service a health check and starts the app after healthy servers', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} health check`).toBeDefined();
    }
    for (const app of ['api', 'worker']) {
      for (const dep of ['mongo', 'redis', 'temporal', 'mailpit']) {
        expect(services[app].depends_on?.[dep]?.condition, `${app} waits for ${dep}`).toBe('service_healthy');
      }
    }
  });

  it('checks the API and the worker through their health endpoints, which answer 503 when unhealthy', () => {
    const probe = (name: string) => JSON.stringify(services[name].healthcheck?.test);
    expect(probe('api')).toContain(`http://127.0.0.1:${services.api.environment!.HTTP_PORT}/healthz`);
    expect(services.worker.environment!.WORKER_HEALTH_PORT).toMatch(/^\d+$/);
    expect(probe('worker')).toContain(`http://127.0.0.1:${services.worker.environment!.WORKER_HEALTH_PORT}/healthz`);
    for (const app of ['api', 'worker']) expect(probe(app), `${app} exits 1 on a non-2xx answer`).toContain('process.exit(r.ok?0:1)');
    // redis-cli exits 0 on an error reply: the check must look for PONG.
    expect(probe('redis')).toContain('grep -qx PONG');
  });

  it('publishes the ports people use: API, Temporal gRPC and UI, mail UI', () => {
    const published = (name: string) => (services[name].ports ?? []).map((p) => Number(p.split(':').at(-2)));
    expect(published('api')).toContain(3000);
    expect(published('temporal')).toEqual(expect.arrayContaining([7233, 8233]));
    expect(published('mailpit')).toEqual(expect.arrayContaining([1025, 8025]));
    expect(published('mongo')).toContain(27017);
    expect(published('redis')).toContain(6379);
  });

  it('points the app at the compose servers with variables the config knows', () => {
    for (const app of ['api', 'worker']) {
      const env = services[app].environment!;
      expect(env.MONGODB_URI).toBe('mongodb://mongo:27017');
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.SMTP_URL).toBe('smtp://mailpit:1025');
      for (const key of Object.keys(env)) expect(configKeys, `${app}: ${key} is a known setting`).toContain(key);
    }
    expect(services.api.environment!.HTTP_HOST).toBe('0.0.0.0');
  });

  it('registers the search attributes the workflows declare', async () => {
    const { SEARCH_ATTRIBUTES } = await import('../../workflows/search-attributes');
    for (const [key, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      expect(services.temporal.command).toContain(`--search-attribute=${key}=${type}`);
    }
  });
});

/** No Docker engine runs in CI, so the compose file is checked by reading it. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config/env';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
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

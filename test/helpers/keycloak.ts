/**
 * A real Keycloak for tests: started on a temporary data directory (the cached install is
 * reused), seeded with a realm, the confidential client tenure's connector signs in with, a
 * public client people sign in to with a password, users and groups. `restart()` stops it and
 * starts it again on the same data directory and port, keeping everything.
 */
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keycloakAdmin, seedKeycloakRealm, startKeycloak, type RunningKeycloak, type SeededRealm } from '../../src/devstack/keycloak';

/** A realm seeded as `npm start` seeds its own (src/devstack/keycloak.ts). */
export type KeycloakRealm = SeededRealm;

interface TokenAnswer {
  ok: boolean;
  status: number;
  refreshToken?: string;
  error?: string;
}

export interface TestKeycloak {
  readonly url: string;
  readonly running: RunningKeycloak | null;
  /** An admin client of the master realm's administrator, signed in afresh. */
  admin(): Promise<KcAdminClient>;
  createRealm(name?: string): Promise<KeycloakRealm>;
  createGroup(realm: string, name: string): Promise<string>;
  /** A user with a password; returns Keycloak's id. */
  createUser(realm: string, email: string, opts?: { password?: string; groups?: string[] }): Promise<string>;
  /** Password sign-in at the realm's public client: a session, and an offline session with `offline: true`. */
  signIn(realm: KeycloakRealm, email: string, password: string, opts?: { offline?: boolean }): Promise<TokenAnswer>;
  /** Uses a refresh (or offline) token: `ok: false, error: 'invalid_grant'` once it is revoked. */
  refresh(realm: KeycloakRealm, refreshToken: string): Promise<TokenAnswer>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes the data directory. */
  destroy(): Promise<void>;
}

export const TEST_PASSWORD = 'Leaver-password-1';

export async function startTestKeycloak(): Promise<TestKeycloak> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-keycloak-'));
  let running: RunningKeycloak | null = await startKeycloak({ dataDir });
  const port = running.port;
  const url = running.url;
  const adminCreds = running.admin;

  const admin = () => keycloakAdmin(url, adminCreds);

  const token = async (realm: KeycloakRealm, form: Record<string, string>): Promise<TokenAnswer> => {
    const res = await fetch(`${url}/realms/${encodeURIComponent(realm.realm)}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: realm.appClientId, ...form }),
    });
    const body = (await res.json()) as { refresh_token?: string; error?: string };
    return { ok: res.ok, status: res.status, refreshToken: body.refresh_token, error: body.error };
  };

  return {
    url,
    get running() {
      return running;
    },
    admin,
    createRealm(name = `r${randomBytes(4).toString('hex')}`) {
      return seedKeycloakRealm(url, adminCreds, { realm: name, appClientId: 'tenure-test-app' });
    },
    async createGroup(realm, name) {
      const kc = await admin();
      const { id } = await kc.groups.create({ realm, name });
      return id;
    },
    async createUser(realm, email, opts = {}) {
      const kc = await admin();
      const { id } = await kc.users.create({
        realm,
        username: email,
        email,
        emailVerified: true,
        firstName: email.split('@')[0],
        lastName: 'Test',
        enabled: true,
        credentials: [{ type: 'password', value: opts.password ?? TEST_PASSWORD, temporary: false }],
      });
      for (const groupId of opts.groups ?? []) await kc.users.addToGroup({ realm, id, groupId });
      return id;
    },
    signIn(realm, email, password, opts = {}) {
      return token(realm, { grant_type: 'password', username: email, password, scope: opts.offline ? 'openid offline_access' : 'openid' });
    },
    refresh(realm, refreshToken) {
      return token(realm, { grant_type: 'refresh_token', refresh_token: refreshToken });
    },
    async stop() {
      await running?.stop();
      running = null;
    },
    async start() {
      if (running) return;
      running = await startKeycloak({ dataDir, port });
    },
    async destroy() {
      await running?.stop();
      running = null;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The connected systems `npm start` runs on this machine when TENURE_LOCAL_CONNECTORS names them:
 * a Keycloak and a Gitea with their data under the data directory (`<data dir>/keycloak`,
 * `<data dir>/gitea`, so the next start finds the same people and repositories), started side by
 * side, Keycloak's realm `tenure` seeded on every start (nothing already there is replaced), and
 * the connector settings the API and worker receive.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { LocalConnector } from '../config/env';
import { LocalStackError } from '../errors';
import { startGitea, type RunningGitea } from './gitea';
import { seedKeycloakRealm, startKeycloak, type RunningKeycloak, type SeededRealm } from './keycloak';
import { freePort } from './ports';

/** The realm the local Keycloak keeps tenure's people in. */
const LOCAL_KEYCLOAK_REALM = 'tenure';

/** What `stack.json` says of the local systems: where they are and how their administrators sign in. */
export interface LocalConnectedSystems {
  keycloak?: {
    url: string;
    realm: string;
    adminConsoleUrl: string;
    admin: { username: string; password: string };
    /** The connector's confidential client, and the public client people sign in to with a password. */
    clientId: string;
    appClientId: string;
  };
  gitea?: { url: string; admin: { username: string; password: string; token: string } };
}

export interface RunningLocalConnectors {
  /** The connector settings (GITEA_*, KEYCLOAK_*) for the API and worker. */
  env: Record<string, string>;
  systems: LocalConnectedSystems;
  /** Lines of the start-up summary. */
  summary: string[];
  stop(): Promise<void>;
}

/**
 * Starts the named systems in parallel. Either all come up or none is left running, and the
 * failure is one sentence naming the system.
 */
export async function startLocalConnectors(dataDir: string, names: readonly LocalConnector[]): Promise<RunningLocalConnectors> {
  const [keycloak, gitea] = await Promise.allSettled([
    names.includes('keycloak') ? startLocalKeycloak(join(dataDir, 'keycloak')) : Promise.resolve(undefined),
    names.includes('gitea') ? startLocalGitea(join(dataDir, 'gitea')) : Promise.resolve(undefined),
  ]);
  const started = [keycloak, gitea].flatMap((result) => (result.status === 'fulfilled' && result.value ? [result.value] : []));
  const stop = async () => {
    await Promise.all(started.map((system) => system.stop()));
  };
  const failed = [keycloak, gitea].find((result) => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const kc = keycloak.status === 'fulfilled' ? keycloak.value : undefined;
  const gt = gitea.status === 'fulfilled' ? gitea.value : undefined;

  const env: Record<string, string> = {};
  const systems: LocalConnectedSystems = {};
  const summary: string[] = [];
  if (kc) {
    Object.assign(env, { KEYCLOAK_URL: kc.server.url, KEYCLOAK_REALM: kc.realm.realm, KEYCLOAK_CLIENT_ID: kc.realm.clientId, KEYCLOAK_CLIENT_SECRET: kc.realm.clientSecret });
    const adminConsoleUrl = `${kc.server.url}/admin/master/console/#/${kc.realm.realm}`;
    systems.keycloak = { url: kc.server.url, realm: kc.realm.realm, adminConsoleUrl, admin: kc.server.admin, clientId: kc.realm.clientId, appClientId: kc.realm.appClientId };
    summary.push(
      `  Keycloak     ${kc.server.url}   realm ${kc.realm.realm}: the connector's client ${kc.realm.clientId}, people sign in with a password at client ${kc.realm.appClientId}`,
      `               admin console ${adminConsoleUrl}   user ${kc.server.admin.username}, password ${kc.server.admin.password}`,
    );
  }
  if (gt) {
    Object.assign(env, { GITEA_URL: gt.url, GITEA_TOKEN: gt.admin.token });
    systems.gitea = { url: gt.url, admin: gt.admin };
    summary.push(`  Gitea        ${gt.url}   site administrator ${gt.admin.username}, password ${gt.admin.password}`);
  }
  return { env, systems, summary, stop };
}

async function startLocalKeycloak(dir: string): Promise<{ server: RunningKeycloak; realm: SeededRealm; stop(): Promise<void> }> {
  let server: RunningKeycloak;
  try {
    server = await startKeycloak({ dataDir: dir, port: await keptPort(dir) });
  } catch (err) {
    throw new LocalStackError(`the local Keycloak did not start: ${(err as Error).message}`);
  }
  try {
    const realm = await seedKeycloakRealm(server.url, server.admin, { realm: LOCAL_KEYCLOAK_REALM });
    return { server, realm, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw new LocalStackError(`the local Keycloak started but its realm ${LOCAL_KEYCLOAK_REALM} could not be set up: ${(err as Error).message}`);
  }
}

async function startLocalGitea(dir: string): Promise<RunningGitea> {
  try {
    return await startGitea({ dataDir: dir, port: await keptPort(dir) });
  } catch (err) {
    throw new LocalStackError(`the local Gitea did not start: ${(err as Error).message}`);
  }
}

/**
 * The port a local system had on its last start when it is still free, else a free one (kept for
 * the next start): its links, clone URLs and token issuer stay the same from one start to the next.
 */
async function keptPort(dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'port');
  const previous = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
  const port = Number.isInteger(previous) && previous > 0 && previous < 65536 && (await isFree(previous)) ? previous : await freePort();
  writeFileSync(file, `${port}\n`);
  return port;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

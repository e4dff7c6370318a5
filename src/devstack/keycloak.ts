/**
 * Keycloak for the connector's tests and local trials: the distribution zip from Maven Central,
 * unpacked once into the cache, started with `kc.sh start-dev` on loopback ports with its H2
 * database and transaction log in a data directory of the caller's (so a stop and a start on
 * the same directory keep every realm, user and session-less state).
 *
 * The first start of a fresh install rebuilds Keycloak's Quarkus application for the dev
 * profile (it writes into the install, once); later starts reuse it.
 */
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, firstLine, MissingToolError, which } from './binaries';
import { freePort } from './ports';
import { terminate } from './stack';

const KEYCLOAK_VERSION = '26.7.3';
/** The realm-management roles the connector's service account gets, and nothing more (README, "Connected systems → Keycloak"). */
const CONNECTOR_ROLES = ['manage-users'] as const;
const ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;

export interface KeycloakInstall {
  /** The unpacked distribution (bin/kc.sh, lib, conf). */
  home: string;
  kcSh: string;
  java: string;
}

export interface RunningKeycloak {
  /** Base URL of the HTTP listener (realms at `${url}/realms/<name>`, Admin REST at `${url}/admin/realms/<name>`). */
  url: string;
  port: number;
  /** The management interface (health at `${managementUrl}/health/ready`). */
  managementUrl: string;
  dataDir: string;
  /** The master realm's administrator created on the data directory's first start. */
  admin: { username: string; password: string };
  stop(): Promise<void>;
}

class KeycloakStartError extends Error {
  override readonly name = 'KeycloakStartError';
}

function log(message: string): void {
  process.stderr.write(`[devstack] ${message}\n`);
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** java and mvn from PATH, else Debian's packages when running as root. */
function findOrInstallJavaAndMaven(): { java: string; mvn: string } {
  const find = () => ({ java: which('java', ['-version']), mvn: which('mvn', ['-v']) });
  let found = find();
  if ((!found.java || !found.mvn) && isRoot() && which('apt-get')) {
    log('installing Java 17 and Maven from Debian packages (apt-get)…');
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-qq', 'openjdk-17-jdk-headless', 'maven'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (err) {
      throw new MissingToolError(`Keycloak needs Java 17 and Maven, and apt-get could not install them (${firstLine(err)}).`);
    }
    found = find();
  }
  if (!found.java || !found.mvn) {
    throw new MissingToolError(`Keycloak needs Java 17+ and Maven (to fetch ${ARTIFACT}): install openjdk-17-jdk-headless and maven.`);
  }
  return { java: found.java, mvn: found.mvn };
}

/**
 * Fetches and unpacks Keycloak once into the cache; later calls return at once. Concurrent
 * first calls each unpack apart and the first rename wins.
 */
export async function ensureKeycloakInstalled(): Promise<KeycloakInstall> {
  const home = join(cacheDir(), `keycloak-${KEYCLOAK_VERSION}`);
  const kcSh = join(home, 'bin', 'kc.sh');
  if (existsSync(kcSh)) {
    const java = which('java', ['-version']);
    if (java) return { home, kcSh, java };
  }
  const tools = findOrInstallJavaAndMaven();
  if (existsSync(kcSh)) return { home, kcSh, java: tools.java };

  log(`fetching Keycloak ${KEYCLOAK_VERSION} (${ARTIFACT}, about 177 MB) from Maven Central…`);
  const work = `${home}.partial-${process.pid}`;
  try {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    execFileSync(tools.mvn, ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${work}`], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const zip = join(work, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    const unzip = which('unzip', ['-v']);
    if (unzip) {
      execFileSync(unzip, ['-q', zip, '-d', unpacked], { stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      // The JDK's jar tool unpacks zips too (it drops the execute bits, restored below).
      const jar = which('jar', ['--version']);
      if (!jar) throw new MissingToolError('Unpacking Keycloak needs unzip or the JDK\'s jar tool: install the unzip package.');
      execFileSync(jar, ['xf', zip], { cwd: unpacked, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    const top = join(unpacked, `keycloak-${KEYCLOAK_VERSION}`);
    for (const name of readdirSync(join(top, 'bin'))) if (name.endsWith('.sh')) chmodSync(join(top, 'bin', name), 0o755);
    try {
      renameSync(top, home);
    } catch {
      if (!existsSync(kcSh)) throw new Error(`could not move Keycloak into ${home}`);
    }
  } catch (err) {
    if (err instanceof MissingToolError) throw err;
    throw new MissingToolError(`Keycloak ${KEYCLOAK_VERSION} could not be fetched or unpacked (${firstLine(err)}).`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { home, kcSh, java: tools.java };
}

/** The administrator of a data directory, made on its first start and read again on the next. */
function adminFor(dataDir: string): { username: string; password: string } {
  const file = join(dataDir, 'keycloak-admin.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { username: string; password: string };
  const admin = { username: 'tenure-admin', password: randomBytes(18).toString('base64url') };
  writeFileSync(file, JSON.stringify(admin), { mode: 0o600 });
  return admin;
}

/**
 * Starts Keycloak in dev mode on loopback. `port` fixes the HTTP port (a restart on the same
 * data directory passes the port it had, so tokens and URLs stay valid); the management port
 * (health) is always a free one.
 */
export async function startKeycloak(opts: { dataDir: string; port?: number; startTimeoutMs?: number }): Promise<RunningKeycloak> {
  const install = await ensureKeycloakInstalled();
  mkdirSync(opts.dataDir, { recursive: true });
  const [port, managementPort] = await Promise.all([opts.port ?? freePort(), freePort()]);
  const admin = adminFor(opts.dataDir);
  const args = [
    'start-dev',
    '--http-host=127.0.0.1',
    `--http-port=${port}`,
    `--http-management-port=${managementPort}`,
    '--health-enabled=true',
    `--db-url=jdbc:h2:file:${join(opts.dataDir, 'h2', 'keycloakdb')};NON_KEYWORDS=VALUE`,
    // The transaction log lives in the install otherwise, shared by every server started from it.
    `-Dquarkus.transaction-manager.object-store.directory=${join(opts.dataDir, 'transaction-logs')}`,
  ];
  const logFd = openSync(join(opts.dataDir, 'keycloak.log'), 'a');
  // detached: its own process group; kc.sh leaves java as a child, and stop() signals the group.
  const child: ChildProcess = spawn(install.kcSh, args, {
    stdio: ['ignore', logFd, logFd],
    detached: true,
    env: {
      ...process.env,
      JAVA: install.java,
      KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    },
  });
  closeSync(logFd);
  const stop = () => terminate(child, 20_000);
  const url = `http://127.0.0.1:${port}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  try {
    await waitUntilReady(child, `${managementUrl}/health/ready`, join(opts.dataDir, 'keycloak.log'), opts.startTimeoutMs ?? 300_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, managementUrl, dataDir: opts.dataDir, admin, stop };
}

async function waitUntilReady(child: ChildProcess, healthUrl: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new KeycloakStartError(`Keycloak exited at start-up (code ${child.exitCode ?? child.signalCode}); see ${logFile}.`);
    }
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `health answered ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new KeycloakStartError(`Keycloak did not become ready within ${timeoutMs / 1000}s (${last}); see ${logFile}.`);
}

export interface SeededRealm {
  realm: string;
  /** The connector's confidential client (client credentials grant, service account). */
  clientId: string;
  clientSecret: string;
  /** A public client with direct access grants, for people to sign in with a password. */
  appClientId: string;
}

/** The master realm's administrator, signed in afresh (admin-cli, password grant). */
export async function keycloakAdmin(url: string, admin: { username: string; password: string }): Promise<KcAdminClient> {
  const client = new KcAdminClient({ baseUrl: url, realmName: 'master' });
  await client.auth({ grantType: 'password', clientId: 'admin-cli', username: admin.username, password: admin.password });
  return client;
}

/**
 * Makes what tenure's Keycloak connector needs in a realm, keeping what is already there (so it
 * can run on every start): the realm; the connector's confidential client with a service account
 * holding only realm-management's `manage-users`; a public client with direct access grants for
 * people to sign in with a password. Answers the connector's settings (an existing client's
 * secret is read back, not replaced).
 */
export async function seedKeycloakRealm(
  url: string,
  admin: { username: string; password: string },
  opts: { realm: string; clientId?: string; appClientId?: string },
): Promise<SeededRealm> {
  const kc = await keycloakAdmin(url, admin);
  const realm = opts.realm;
  const clientId = opts.clientId ?? 'tenure-offboarding';
  const appClientId = opts.appClientId ?? 'tenure-sign-in';
  if (!(await kc.realms.findOne({ realm }))) await kc.realms.create({ realm, enabled: true });
  kc.setConfig({ realmName: realm });

  let [connectorClient] = await kc.clients.find({ clientId });
  if (!connectorClient) {
    await kc.clients.create({
      clientId,
      protocol: 'openid-connect',
      publicClient: false,
      secret: randomBytes(24).toString('hex'),
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
    });
    [connectorClient] = await kc.clients.find({ clientId });
  }
  const connectorUuid = connectorClient!.id!;
  const serviceUser = await kc.clients.getServiceAccountUser({ id: connectorUuid });
  const [realmManagement] = await kc.clients.find({ clientId: 'realm-management' });
  const roles = await Promise.all(CONNECTOR_ROLES.map((role) => kc.clients.findRole({ id: realmManagement!.id!, roleName: role })));
  // Adding a role the account already holds changes nothing.
  await kc.users.addClientRoleMappings({
    id: serviceUser.id!,
    clientUniqueId: realmManagement!.id!,
    roles: roles.map((r) => ({ id: r!.id!, name: r!.name! })),
  });
  const { value: clientSecret } = await kc.clients.getClientSecret({ id: connectorUuid });

  if ((await kc.clients.find({ clientId: appClientId })).length === 0) {
    await kc.clients.create({
      clientId: appClientId,
      protocol: 'openid-connect',
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
    });
  }
  return { realm, clientId, clientSecret: clientSecret!, appClientId };
}

/**
 * Finds or installs every binary of the local stack ahead of time (CI runs it before the
 * tests so that installing does not count against the tests' start-up). Honours
 * TEMPORAL_ADDRESS, REDIS_URL and MONGODB_URI: a server given by address is not installed.
 * Also installs the SCIM conformance checker (scim2-tester) that test/scim runs and the
 * chromium that the console's browser test drives, and the servers the connectors' tests run
 * against: Gitea (built from source) and Keycloak (its distribution from Maven Central).
 */
import { findOrInstallChromium, findOrInstallScimTester, resolveBinaries } from '../src/devstack/binaries';
import { ensureGiteaInstalled } from '../src/devstack/gitea';
import { ensureKeycloakInstalled } from '../src/devstack/keycloak';

try {
  const bins = resolveBinaries({
    temporal: !process.env.TEMPORAL_ADDRESS,
    redis: !process.env.REDIS_URL,
    mongo: !process.env.MONGODB_URI,
  });
  for (const [name, value] of Object.entries(bins)) {
    if (value) console.log(`${name}: ${typeof value === 'string' ? value : value.kind === 'mongod' ? `mongod ${value.path}` : `${value.kind} (${value.java})`}`);
  }
  console.log(`scim2-tester: ${findOrInstallScimTester()}`);
  console.log(`chromium: ${findOrInstallChromium()}`);
  const gitea = await ensureGiteaInstalled();
  console.log(`gitea ${gitea.version}: ${gitea.binary}`);
  console.log(`keycloak: ${(await ensureKeycloakInstalled()).home}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

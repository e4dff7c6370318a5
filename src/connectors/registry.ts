/**
 * The connected systems this deployment reaches, from the configuration: a connector is on when
 * its settings are set (env.ts checks they come together). The worker builds them once at start.
 */
import type { Config } from '../config/env';
import type { Logger } from '../logger';
import { ConnectorRefusedError, type Connector } from './contract';
import { createGiteaConnector } from './gitea';
import { createKeycloakConnector } from './keycloak';
import { createSlackConnector } from './slack';

export function connectorsFromConfig(config: Config): Connector[] {
  const connectors: Connector[] = [];
  if (config.KEYCLOAK_URL && config.KEYCLOAK_REALM && config.KEYCLOAK_CLIENT_ID && config.KEYCLOAK_CLIENT_SECRET) {
    connectors.push(createKeycloakConnector({ url: config.KEYCLOAK_URL, realm: config.KEYCLOAK_REALM, clientId: config.KEYCLOAK_CLIENT_ID, clientSecret: config.KEYCLOAK_CLIENT_SECRET }));
  }
  if (config.GITEA_URL && config.GITEA_TOKEN) connectors.push(createGiteaConnector({ url: config.GITEA_URL, token: config.GITEA_TOKEN, fallbackOwner: config.GITEA_FALLBACK_OWNER }));
  if (config.SLACK_ADMIN_TOKEN) connectors.push(createSlackConnector({ token: config.SLACK_ADMIN_TOKEN, apiUrl: config.SLACK_API_URL, scimUrl: config.SLACK_SCIM_URL }));
  return connectors;
}

/**
 * Checks every connector's URL and credentials at start-up. Credentials a system refuses stop the
 * start (retrying cannot fix them); a system that is down only warns: offboardings retry it and
 * report access left behind while it stays down.
 */
export async function checkConnectors(connectors: Connector[], logger: Logger): Promise<void> {
  await Promise.all(
    connectors.map(async (connector) => {
      try {
        await connector.check();
        logger.info({ system: connector.id }, 'connected system reachable');
      } catch (err) {
        if (err instanceof ConnectorRefusedError) throw err;
        logger.warn({ system: connector.id, err: (err as Error).message }, 'connected system unreachable at start-up; offboardings will retry it');
      }
    }),
  );
}

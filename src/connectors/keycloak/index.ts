export { createKeycloakConnector } from './connector';
export type { KeycloakConnectorOptions } from './options';

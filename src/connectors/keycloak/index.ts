export { createKeycloakConnector } from './connector';

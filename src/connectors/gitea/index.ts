export { createGiteaConnector } from './connector';
export type { GiteaConnectorOptions } from './options';

export { createGiteaConnector } from './connector';

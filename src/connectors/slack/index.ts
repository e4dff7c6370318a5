export { createSlackConnector } from './connector';

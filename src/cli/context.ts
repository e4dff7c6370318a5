/** What every command starts from: the API client and the output mode, from the global options. */
import type { Command } from 'commander';
import { ApiClient, resolveConnection } from './client';
import type { Output } from './output';

interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export interface CommandContext {
  api: ApiClient;
  out: Output;
}

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  return { api: new ApiClient(resolveConnection(options)), out: { json: options.json === true } };
}

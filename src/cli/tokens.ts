/** `tenure tokens revoke <idOrEmail> <tokenId>`. */
import type { Command } from 'commander';
import { userPath } from './client';
import { contextOf } from './context';
import { print } from './output';

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description("users' API tokens");
  tokens
    .command('revoke')
    .description('revoke one API token of a user (idempotent)')
    .argument('<idOrEmail>')
    .argument('<tokenId>')
    .action(async (idOrEmail: string, tokenId: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.delete<{ message: string; alreadyRevoked: boolean }>(userPath(idOrEmail, `/tokens/${encodeURIComponent(tokenId)}`));
      print(out, answer, (a) => a.message);
    });
}

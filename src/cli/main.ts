#!/usr/bin/env node
/**
 * `tenure`: the operators' command line, a client of the HTTP API. It reads TENURE_URL and
 * TENURE_TOKEN (or --url/--token; without a URL, the running local `npm start`), prints the
 * API's answers (as JSON with --json) and its errors as one line on stderr: exit 1 for an
 * error of the API, 2 for a command-line mistake.
 */
import { Command, CommanderError } from 'commander';
import { registerBulk } from './bulk';
import { registerDeadLetters } from './dead-letters';
import { registerOffboarding } from './offboarding';
import { reportFailure } from './output';
import { registerTokens } from './tokens';
import { registerUsers } from './users';

/** The usage errors of commander exit 2; its help and version exit 0. */
const USAGE_EXIT_CODE = 2;

function buildProgram(): Command {
  const program = new Command('tenure')
    .description('Administer tenure through its HTTP API.')
    .option('--url <url>', 'the API (default: TENURE_URL, else the running `npm start`)')
    .option('--token <token>', 'an API token (default: TENURE_TOKEN)')
    .option('--json', "print the API's answers as JSON, one per line")
    .showHelpAfterError()
    .exitOverride();
  registerUsers(program);
  registerOffboarding(program);
  registerBulk(program);
  registerDeadLetters(program);
  registerTokens(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    return reportFailure(err);
  }
}

process.exitCode = await main(process.argv);

/**
 * `npm run bootstrap -- --email admin@example.com [--first-name Ada] [--last-name Lovelace] [--force]`
 *
 * Creates the first Administrator (active) and prints an API token for them once. Talks to the
 * store of the running `npm start` (its data directory says where) unless MONGODB_URI is set. Refuses when an
 * active Administrator already exists, unless --force. Exit codes: 0 done, 1 refused or failed,
 * 2 wrong arguments.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../config/env';
import { connectMongo } from '../db/connection';
import { createModels, ensureIndexes } from '../db/models';
import { withLocalStack } from '../devstack/stack-file';
import { emailAddress } from '../domain/email';
import { AppError } from '../errors';
import { bootstrapAdministrator } from '../services/bootstrap';
import { exitOnStartupError } from './lifecycle';

const USAGE = 'usage: npm run bootstrap -- --email <address> [--first-name <name>] [--last-name <name>] [--force]';

function parseCommandLine(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        email: { type: 'string' },
        'first-name': { type: 'string' },
        'last-name': { type: 'string' },
        force: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { error: (err as Error).message };
  }
  const email = emailAddress.safeParse(values.email ?? '');
  if (!email.success) return { error: values.email ? `"${values.email}" is not an email address.` : '--email is required.' };
  const name = z.string().trim().max(100).optional();
  return { email: email.data, firstName: name.parse(values['first-name']), lastName: name.parse(values['last-name']), force: !!values.force };
}

async function main(): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2));
  if ('error' in args) {
    process.stderr.write(`tenure bootstrap: ${args.error}\n${USAGE}\n`);
    process.exit(2);
  }
  // The servers of a running `npm start` unless MONGODB_URI names others.
  const config = loadConfig(withLocalStack());
  const conn = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  try {
    const models = createModels(conn);
    await ensureIndexes(models);
    const result = await bootstrapAdministrator(models, args);
    process.stdout.write(
      `Administrator ${result.user.email} ${result.created ? 'created' : 'promoted and activated'} (id ${String(result.user._id)}).\n` +
        `API token (shown once; store it now, it cannot be shown again):\n${result.token}\n`,
    );
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`tenure bootstrap: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  } finally {
    await conn.close();
  }
}

main().catch(exitOnStartupError);

/**
 * The organization the benchmarks run in: BENCH_USERS users (default 100,000) shaped like
 * tenure's, e.g. john.smith.engineer.123@acme.test, so every figure is taken on a store of
 * realistic size rather than an empty one.
 */
import type { mongo } from 'mongoose';
import { searchTokensFor } from '../../src/db/models/user';

export const POPULATION = Number(process.env.BENCH_USERS ?? 100_000);

export const DOMAINS = ['acme.test', 'globex.test', 'initech.test', 'umbrella.test', 'hooli.test'];
const FIRST = ['john', 'johnny', 'johanna', 'jane', 'mary', 'peter', 'bengt', 'sven', 'li', 'ana', 'omar', 'yuki', 'eng', 'kofi', 'rosa', 'ivan'];
const LAST = ['smith', 'doe', 'lee', 'garcia', 'engels', 'muller', 'rossi', 'tanaka', 'kim', 'silva', 'strong', 'brown'];
const ROLES = ['ops', 'engineer', 'sales', 'support', 'finance', 'design', 'legal', 'hr'];
const BATCH = 5_000;

/** User number i: about 1 in 8 locals holds "engineer", names add "eng" more often; 1 in 10 deactivated. */
export function userDoc(i: number) {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
  const role = ROLES[Math.floor(i / 7) % ROLES.length]!;
  const domain = DOMAINS[i % DOMAINS.length]!;
  const email = `${first}.${last}.${role}.${i}@${domain}`;
  const firstName = first[0]!.toUpperCase() + first.slice(1);
  const lastName = last[0]!.toUpperCase() + last.slice(1);
  const at = new Date(Date.UTC(2020, 0, 1) + i * 60_000);
  return {
    email,
    emailDomain: domain,
    firstName,
    lastName,
    searchTokens: searchTokensFor({ email, firstName, lastName }),
    siteRole: 'Users',
    status: i % 10 === 0 ? 'deactivated' : 'active',
    groups: [],
    applications: [],
    tools: [],
    createdAt: at,
    updatedAt: at,
  };
}

/** How many of `count` users have the domain DOMAINS[k] (user i has DOMAINS[i % 5]). */
export function usersInDomain(count: number, k: number): number {
  return count > k ? Math.floor((count - 1 - k) / DOMAINS.length) + 1 : 0;
}

/**
 * Inserts `count` users into a users collection in batches, printing progress under `label`;
 * `extra(i)` adds fields (an `_id`, say) to user i. Returns the time it took in ms.
 */
export async function seedPopulation(users: mongo.Collection<mongo.Document>, count = POPULATION, label = 'population', extra: (i: number) => mongo.Document = () => ({})): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < count; from += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => ({ ...extra(from + k), ...userDoc(from + k) }));
    await users.insertMany(docs, { ordered: false });
    process.stderr.write(`\r  ${label}: seeded ${from + docs.length} / ${count}`);
  }
  process.stderr.write('\n');
  return performance.now() - started;
}

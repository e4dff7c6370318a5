/** The README is part of done: it must name the two commands and every setting the code reads. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config/env';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };
const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');

describe('README.md', () => {
  it('documents every configuration variable', () => {
    const missing = CONFIG_KEYS.filter((key) => !readme.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });

  it('gives the run and test commands, and CI runs exactly the test command', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toBe('vitest run');
    expect(ci).toMatch(/^\s*(PATH=\S+ )?npm test /m);
  });

  it('says which Node versions run tenure, and CI runs the suite on the machine\'s Node and on Node 24 LTS', () => {
    expect(pkg.engines.node).toBe('>=22.12.0');
    expect(readme).toContain('Node.js 22.12+ or 24');
    expect(ci).toMatch(/^NODE_LTS_MAJOR=24$/m);
    expect(ci).toMatch(/^run_suite "the machine's Node" ""$/m);
    expect(ci).toMatch(/^run_suite "Node \$\{NODE_LTS_MAJOR\} LTS" "\$\{lts_bin\}:"$/m);
    // The last line counts both runs.
    expect(ci).toMatch(/^echo "\$\{total_passed\} passed, \$\{total_failed\} failed"$/m);
  });

  it('documents every npm script it mentions', () => {
    for (const [, name] of readme.matchAll(/npm run ([a-z:]+)/g)) expect(pkg.scripts, name).toHaveProperty(name!);
  });
});

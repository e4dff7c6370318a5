#!/usr/bin/env node
// `npx tenure …`: the compiled CLI (dist/cli.js, from `npm run build`) in production; in a checkout
// with its development dependencies, the TypeScript sources through tsx, so no build is needed.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli.js', import.meta.url);

async function tsxRegistered() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && (await tsxRegistered())) await import(source.href);
else await import(compiled.href);

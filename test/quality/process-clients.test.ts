/**
 * One way to talk to a running process: outside src/processes/ no code calls the Temporal
 * client's workflow API, and no failure is told apart by its name or message (src/processes/
 * failures.ts maps them by class and failure type).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CLIENT_CALL = /\.workflow\.(getHandle|start|list|count|execute\w*|signalWithStart|startUpdateWithStart)\b/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `file:line` of every line of the files under `dirs` that matches `pattern`. */
function linesMatching(dirs: string[], pattern: RegExp, skip: (file: string) => boolean = () => false): string[] {
  const found: string[] = [];
  for (const file of dirs.flatMap(sourceFiles)) {
    const name = file.split(sep).join('/');
    if (skip(name)) continue;
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (pattern.test(line)) found.push(`${name}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

describe('process clients', () => {
  it('the workflow API of the Temporal client is called from src/processes/ only', () => {
    const calls = linesMatching(['src', 'activities'], CLIENT_CALL, (file) => file.startsWith('src/processes/'));
    expect(calls).toEqual([]);
  });

  it('no failure is recognised by its name or by a pattern on its message', () => {
    expect(linesMatching(['src', 'activities'], /\.name\s*===?\s*['"]\w*(Error|Failure)['"]|\/[^/\n]*(not implemented|not found|already completed)[^/\n]*\/i?\.test\(/)).toEqual([]);
  });

  it('the check sees a call where there is one', () => {
    expect(linesMatching(['src/processes'], CLIENT_CALL).length).toBeGreaterThan(0);
  });
});

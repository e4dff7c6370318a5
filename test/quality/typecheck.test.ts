import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the code base', () => {
  it('type-checks in strict mode', async () => {
    const output = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (_err, stdout, stderr) =>
        resolve(`${stdout}${stderr}`),
      );
    });
    expect(output.trim()).toBe('');
  }, 120_000);

  it('keeps Node built-ins and I/O out of workflow code', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../workflows/', import.meta.url);
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      expect(source, file).not.toMatch(/from ['"](node:|fs|path|crypto|http|https|net|child_process|mongoose|ioredis|bullmq|nodemailer)/);
      // Date is the sandbox's deterministic clock; randomness goes through the SDK's uuid4().
      expect(source, file).not.toMatch(/\bMath\.random\(/);
      // activities are imported for their types only
      expect(source, file).not.toMatch(/^import (?!type)[^;]*from ['"](\.\.\/)+activities/m);
      // of the service's own code, only the pure rules of src/domain run in the sandbox
      expect(source, file).not.toMatch(/^import (?!type)[^;]*from ['"](\.\.\/)+src\/(?!domain\/)/m);
    }
  });
});

/** What the commands print: the API's answer as JSON with `--json`, a few readable lines otherwise. */
import { ApiError, UsageError } from './client';

export interface Output {
  json: boolean;
}

/** The API's answer as one JSON line (`--json`), else the human rendering. */
export function print<T>(out: Output, data: T, human: (data: T) => string): void {
  process.stdout.write(out.json ? `${JSON.stringify(data)}\n` : `${human(data)}\n`);
}

/** One JSON line, whatever the mode (the changes of a followed process with `--json`). */
export function printJsonLine(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data)}\n`);
}

/** `key: value` lines, aligned, skipping empty values. */
export function fields(rows: Array<[string, unknown]>): string {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${Array.isArray(v) ? v.join(', ') : String(v)}`).join('\n');
}

/** A table with a header line; columns as wide as their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Prints a failure as one line on stderr and gives the exit code: the API's error envelope
 * (`{"error":{"code","message"}}`) and 1, or 2 for a command-line mistake.
 */
export function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`${JSON.stringify({ error: { code: 'usage', message: err.message } })}\n`);
    return 2;
  }
  const error = err instanceof ApiError ? { code: err.code, message: err.message } : { code: 'cli_error', message: (err as Error)?.message ?? String(err) };
  process.stderr.write(`${JSON.stringify({ error })}\n`);
  return 1;
}

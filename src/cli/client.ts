/**
 * The CLI's HTTP client. The CLI is a client of the API like any other: the API's
 * authentication, role matrix and validation decide everything, and its answers (or its
 * `{error:{code,message}}`) are what the commands print.
 */
import { localDataDir, readStackFile } from '../devstack/stack-file';

/** An answer of the API other than 2xx, or no answer at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A command-line mistake found after parsing (no token, no API to talk to): exit 2 like a usage error. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Connection {
  url: string;
  token: string;
}

/**
 * Where the API is and who calls it: `--url`/`--token`, else TENURE_URL/TENURE_TOKEN, else the
 * address of a running local `npm start` (its token must still be given).
 */
export function resolveConnection(options: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const token = options.token ?? env.TENURE_TOKEN;
  let url = options.url ?? env.TENURE_URL;
  if (!url) {
    const stack = readStackFile(localDataDir(env));
    if (!stack) throw new UsageError(`No API to talk to: set TENURE_URL (or --url), or start tenure locally with \`npm start\`.`);
    url = stack.apiUrl;
  }
  if (!token) throw new UsageError('No API token: set TENURE_TOKEN (or --token) to an Administrator\'s token (`npm run bootstrap` issues one).');
  return { url: url.replace(/\/+$/, ''), token };
}

export interface RequestOptions {
  query?: Record<string, string | boolean | undefined>;
  /** A JSON body, or a text body sent with `contentType`. */
  body?: unknown;
  contentType?: string;
}

export class ApiClient {
  constructor(private readonly connection: Connection) {}

  async get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  async post<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { body: {}, ...options });
  }

  async delete<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.connection.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.connection.token}`, accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = typeof options.body === 'string' && options.contentType ? options.body : JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(0, 'unreachable', `The API at ${this.connection.url} did not answer: ${cause?.code ?? cause?.message ?? (err as Error).message}.`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      if (error && typeof error.code === 'string' && typeof error.message === 'string') throw new ApiError(res.status, error.code, error.message);
      throw new ApiError(res.status, `http_${res.status}`, `The API answered ${res.status} ${res.statusText}.`);
    }
    return parsed as T;
  }
}

export function userPath(idOrEmail: string, rest = ''): string {
  return `/v1/users/${encodeURIComponent(idOrEmail)}${rest}`;
}

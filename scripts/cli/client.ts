// The CLI's HTTP client: one edgeflow server, one key. A refused request becomes a CliError
// carrying the contract's error code and message, and the exit code the command ends with.

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Connection {
  url: string;
  key: string | undefined;
}

export class Client {
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  get url(): string {
    return this.connection.url.replace(/\/+$/, "");
  }

  /** The key, or a usage error saying how to give one. */
  get key(): string {
    if (!this.connection.key) throw new CliError("no key: pass --key or set EDGEFLOW_API_KEY (the demo key of `npm start` is dev_demo_key)", 2);
    return this.connection.key;
  }

  /** One JSON call; the parsed body of a 2xx answer (null for 204). */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new CliError(`cannot reach ${this.url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)} (is \`npm start\` running?)`);
    }
    const text = await response.text();
    const parsed = text ? parseJson(text) : null;
    if (response.status >= 400 && response.status !== 207) {
      const error = (parsed as { error?: { code?: string; message?: string; issues?: Array<{ path: string; message: string }> } } | null)?.error;
      const issues = (error?.issues ?? []).map((i) => `\n  ${i.path}: ${i.message}`).join("");
      throw new CliError(`${response.status} ${error?.code ?? "error"}: ${error?.message ?? text.slice(0, 200)}${issues}`);
    }
    return parsed as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

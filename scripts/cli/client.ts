// The CLI's HTTP client: one edgeflow server, one key. A refused request becomes a CliError
// carrying the contract's error code and message, and the exit code the command ends with. The
// calls go through the typed client every caller uses (client/index.ts).
import { EdgeflowClient, EdgeflowError, type ApiMethods } from "../../client/index.ts";

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

  /** Every route of the API as a method (client/index.ts), for this server and key; refusals become CliErrors. */
  get api(): ApiMethods {
    return new CliClient({ baseUrl: this.url, key: this.key }).api;
  }
}

/** The typed client with the CLI's errors: the contract's code, message and issues, or why the server cannot be reached. */
class CliClient extends EdgeflowClient {
  override async call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    try {
      return await super.call<T>(method, path, body, headers);
    } catch (err) {
      if (err instanceof EdgeflowError) {
        const issues = err.issues.map((i) => `\n  ${i.path}: ${i.message}`).join("");
        throw new CliError(`${err.status} ${err.code}: ${err.message}${issues}`);
      }
      throw new CliError(`cannot reach ${this.options.baseUrl}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)} (is \`npm start\` running?)`);
    }
  }
}

import { addUsage, type UsageKey } from "../../src/usage.ts";

/** A failed statement, with the query text (never the bound values, which may hold user data). */
class SqlError extends Error {
  override name = "SqlError";
  constructor(
    readonly query: string,
    override readonly cause: unknown,
  ) {
    super(`SQL failed: ${cause instanceof Error ? cause.message : String(cause)} in: ${query.replace(/\s+/g, " ").trim()}`);
  }
}

export type Row = Record<string, SqlStorageValue>;

/** Tagged template over a Durable Object's SQLite: values are always bound, cursors always consumed. */
type Sql = <T extends Row = Row>(strings: TemplateStringsArray, ...values: SqlStorageValue[]) => T[];

/** Which usage counters an actor's SQL adds to. */
export interface SqlMeter {
  read: UsageKey;
  written: UsageKey;
}

/**
 * The one way an actor runs SQL. Every statement's cursor is consumed here and its `rowsRead` and
 * `rowsWritten` (what Cloudflare bills, index entries included) are added to the isolate's usage.
 */
export class Db {
  /** Which tables exist, for the stores that make theirs on first use. */
  readonly tables: Tables;

  constructor(
    private readonly storage: SqlStorage,
    private readonly meter: SqlMeter,
  ) {
    this.tables = new Tables(this);
  }

  /** Tagged template: every row, values bound. */
  readonly sql: Sql = <T extends Row>(strings: TemplateStringsArray, ...values: SqlStorageValue[]): T[] =>
    this.all<T>(strings.join("?"), ...values);

  /** Every row of a query with positional parameters. */
  all<T extends Row>(query: string, ...values: SqlStorageValue[]): T[] {
    const cursor = this.open<T>(query, values);
    try {
      return cursor.toArray();
    } catch (cause) {
      throw new SqlError(query, cause);
    } finally {
      this.count(cursor);
    }
  }

  /**
   * Rows one at a time, for reads that may stop early (a page bounded by bytes). The caller must
   * not await while iterating.
   */
  *iterate<T extends Row>(query: string, ...values: SqlStorageValue[]): Generator<T> {
    const cursor = this.open<T>(query, values);
    try {
      for (const row of cursor) yield row;
    } catch (cause) {
      throw new SqlError(query, cause);
    } finally {
      this.count(cursor);
    }
  }

  /**
   * Fixed DDL from this codebase (never user input), one statement per exec: a multi-statement
   * exec reports the row counts of its last statement only, and schema rows are billed like any
   * other.
   */
  schema(statements: readonly string[]): void {
    for (const statement of statements) this.all(statement);
  }

  private open<T extends Row>(query: string, values: SqlStorageValue[]): SqlStorageCursor<T> {
    try {
      return this.storage.exec<T>(query, ...values);
    } catch (cause) {
      throw new SqlError(query, cause);
    }
  }

  private count(cursor: SqlStorageCursor<Row>): void {
    addUsage(this.meter.read, cursor.rowsRead);
    addUsage(this.meter.written, cursor.rowsWritten);
  }
}

/**
 * Tables made on the first write that needs them, so an object that only ever reads (most tenant
 * actors, an entity with no exceptional delivery) costs no schema rows. Reads ask `has` first;
 * writes call `make`. What exists is read once per object (sqlite_master), on the first question.
 */
export class Tables {
  private names: Set<string> | null = null;

  constructor(private readonly db: Db) {}

  has(name: string): boolean {
    this.names ??= new Set(this.db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`).map((r) => r.name));
    return this.names.has(name);
  }

  /** Runs `statements` unless every table in `names` exists; call inside the write's transaction. */
  make(names: string | readonly string[], statements: readonly string[]): void {
    const all = typeof names === "string" ? [names] : names;
    if (all.every((n) => this.has(n))) return;
    this.db.schema(statements);
    for (const n of all) this.names!.add(n);
  }

  /** What is known now, to put back if the transaction that made tables rolls back. */
  snapshot(): ReadonlySet<string> | null {
    return this.names && new Set(this.names);
  }

  restore(snapshot: ReadonlySet<string> | null): void {
    this.names = snapshot && new Set(snapshot);
  }

  /** After the object's storage was deleted (every table is gone), or changed outside `make`. */
  forget(deleted: boolean): void {
    this.names = deleted ? new Set() : null;
  }
}

export const ENTITY_SQL: SqlMeter = { read: "entityRowsRead", written: "entityRowsWritten" };
export const TENANT_SQL: SqlMeter = { read: "tenantRowsRead", written: "tenantRowsWritten" };
/** The tenant's metrics row: written by periodic flushes, counted apart from per-event work. */
export const METRICS_SQL: SqlMeter = { read: "metricsRowsRead", written: "metricsRowsWritten" };

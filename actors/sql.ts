/** A failed statement, with the query text (never the bound values, which may hold user data). */
export class SqlError extends Error {
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
export type Sql = <T extends Row = Row>(strings: TemplateStringsArray, ...values: SqlStorageValue[]) => T[];

export function createSql(storage: SqlStorage): Sql {
  return <T extends Row>(strings: TemplateStringsArray, ...values: SqlStorageValue[]): T[] => {
    const query = strings.join("?");
    try {
      // Consumed here, so no cursor ever outlives a transaction or crosses an await.
      return storage.exec<T>(query, ...values).toArray();
    } catch (cause) {
      throw new SqlError(query, cause);
    }
  };
}

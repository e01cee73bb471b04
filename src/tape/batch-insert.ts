import type Database from 'better-sqlite3';
import { insertSql, ROWS_PER_INSERT, type TableName } from './sql.js';

/**
 * Collects rows and writes them ROWS_PER_INSERT to a statement; `flush()` writes the rest in
 * power-of-two statements (at most eight calls). Call both inside the transaction.
 */
export class BatchInsert {
  private readonly statements = new Map<number, Database.Statement>();
  private values: unknown[] = [];

  constructor(private readonly db: Database.Database, private readonly table: TableName, private readonly columns: number) {}

  add(...row: unknown[]): void {
    for (const v of row) this.values.push(v);
    if (this.values.length === this.columns * ROWS_PER_INSERT) {
      this.statement(ROWS_PER_INSERT).run(this.values);
      this.values = [];
    }
  }

  flush(): void {
    let at = 0;
    for (let rows = 128; rows >= 1; rows /= 2) {
      const n = rows * this.columns;
      while (this.values.length - at >= n) {
        this.statement(rows).run(this.values.slice(at, at + n));
        at += n;
      }
    }
    this.values = [];
  }

  /** Drops rows not yet written (their transaction was rolled back). */
  clear(): void {
    this.values = [];
  }

  private statement(rows: number): Database.Statement {
    let s = this.statements.get(rows);
    if (!s) this.statements.set(rows, (s = this.db.prepare(insertSql(this.table, this.columns, rows))));
    return s;
  }
}

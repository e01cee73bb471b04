import type Database from 'better-sqlite3';
import { insertSql, ROWS_PER_INSERT } from './sql.js';

/** Collects rows and writes them ROWS_PER_INSERT to a statement; `flush()` writes the rest (call inside the transaction). */
export class BatchInsert {
  private readonly many: Database.Statement;
  private readonly one: Database.Statement;
  private values: unknown[] = [];

  constructor(db: Database.Database, table: 'frames' | 'blobs', private readonly columns: number) {
    this.many = db.prepare(insertSql(table, columns, ROWS_PER_INSERT));
    this.one = db.prepare(insertSql(table, columns, 1));
  }

  add(...row: unknown[]): void {
    for (const v of row) this.values.push(v);
    if (this.values.length === this.columns * ROWS_PER_INSERT) {
      this.many.run(this.values);
      this.values = [];
    }
  }

  flush(): void {
    for (let i = 0; i < this.values.length; i += this.columns) this.one.run(this.values.slice(i, i + this.columns));
    this.values = [];
  }
}

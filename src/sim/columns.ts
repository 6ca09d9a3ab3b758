// A growable structure of typed-array columns: the simulator's per-image lists (energy deposits,
// charge on wires, trigger primitives) hold hundreds to thousands of rows each and sit on the hot
// path, so they are columns of typed arrays, not per-row objects. The subclass declares its
// columns as fields and names them; every column doubles together when a row does not fit.
type Column = Float64Array | Float32Array | Int32Array;

export abstract class Columns {
  /** Rows in use (the columns' lengths are the capacity). */
  n = 0;
  /** The fields that are columns, grown together. */
  protected abstract readonly columns: readonly string[];

  clear(): void {
    this.n = 0;
  }

  /** The index of a new row at the end, growing every column when full. */
  protected addRow(): number {
    const fields = this as unknown as Record<string, Column>;
    const capacity = fields[this.columns[0]!]!.length;
    if (this.n === capacity) {
      for (const name of this.columns) {
        const old = fields[name]!;
        const grown = new (old.constructor as new (n: number) => Column)(capacity * 2);
        grown.set(old);
        fields[name] = grown;
      }
    }
    return this.n++;
  }
}

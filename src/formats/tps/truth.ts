// Truth beside a DAQ-format TP file, which has no place for it: daqyolo's exporter writes
// FILE.owners (one owner per TP line of FILE, in its order: ≥ 0 a signal interaction, < 0 a
// background source as sim/deposits.ts codes them) and FILE.interactions.csv (id, face, time in
// offline ticks from the origin, Eν and Ee in MeV, origin). The importer reads them when both are
// there, so import(export(x)) keeps boxes and energies; DUNE's tools never see them.
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../../errors.js';
import type { TpInteraction } from '../../sim/tp-stream.js';
import { LineWriter, readLines } from './text.js';

export const ownersPath = (file: string): string => `${file}.owners`;
export const interactionsPath = (file: string): string => `${file}.interactions.csv`;
const HEADER = 'id,face,time_ticks,energy_mev,electron_mev,origin';

export const hasTruthSidecar = (file: string): boolean => file !== '-' && existsSync(ownersPath(file)) && existsSync(interactionsPath(file));

/** The owners of one file's TP lines, read as the lines are. */
export class TruthSidecar {
  private readonly lines: AsyncGenerator<{ lines: string[]; first: number }>;
  private chunk: string[] = [];
  private at = 0;
  private first = 1;
  private done = false;
  readonly interactions: TpInteraction[];

  /** Interaction ids are shifted by `base` so that several files have distinct ids. */
  constructor(
    readonly file: string,
    readonly base: number,
  ) {
    this.lines = readLines(ownersPath(file));
    const path = interactionsPath(file);
    const rows = readFileSync(path, 'utf8').split(/\r?\n/);
    this.interactions = [];
    rows.forEach((line, k) => {
      if (!line.trim() || line.startsWith(HEADER) || line.startsWith('#')) return;
      const f = line.split(',');
      const v = f.slice(0, 5).map(Number);
      if (f.length < 6 || v.slice(0, 4).some((x) => !Number.isFinite(x)))
        throw new UserError(`${path}:${k + 1}: expected ${HEADER} with numbers, got "${line}"`);
      this.interactions.push({ id: base + v[0]!, face: v[1]!, time: v[2]!, energyMeV: v[3]!, electronMeV: v[4]!, origin: f.slice(5).join(',') });
    });
  }

  /** The highest interaction id used, shifted. */
  get lastId(): number {
    return this.interactions.reduce((a, t) => Math.max(a, t.id), this.base - 1);
  }

  /** The owner of the next TP line (`where` names that line in errors). */
  async next(where: string): Promise<number> {
    while (this.at >= this.chunk.length) {
      const r = this.done ? undefined : await this.lines.next();
      if (!r || r.done) {
        this.done = true;
        throw new UserError(`${ownersPath(this.file)}: ends before ${where} (one owner per TP line)`);
      }
      this.chunk = r.value.lines;
      this.first = r.value.first;
      this.at = 0;
    }
    const s = this.chunk[this.at++]!;
    const v = Number(s);
    if (!s.trim() || !Number.isInteger(v))
      throw new UserError(`${ownersPath(this.file)}:${this.first + this.at - 1}: field owner value "${s}" is not an integer`);
    return v >= 0 ? v + this.base : v;
  }

  /** Checks no owner is left over. */
  async end(): Promise<void> {
    while (this.at < this.chunk.length && !this.chunk[this.at]!.trim()) this.at++;
    if (this.at < this.chunk.length) throw new UserError(`${ownersPath(this.file)}:${this.first + this.at}: more owners than TP lines in ${this.file}`);
    if (!this.done) {
      for (let r = await this.lines.next(); !r.done; r = await this.lines.next()) {
        const k = r.value.lines.findIndex((l) => l.trim());
        if (k >= 0) throw new UserError(`${ownersPath(this.file)}:${r.value.first + k}: more owners than TP lines in ${this.file}`);
      }
    }
  }
}

/** Writes FILE.owners as TPs are written and FILE.interactions.csv at the end. */
export class TruthWriter {
  private readonly owners: LineWriter;
  private readonly interactions: TpInteraction[] = [];
  constructor(
    readonly file: string,
    ownersTmp: string,
  ) {
    this.owners = new LineWriter(ownersTmp);
  }
  addInteractions(list: TpInteraction[]): void {
    this.interactions.push(...list);
  }
  owner(o: number): Promise<void> | undefined {
    return this.owners.write(String(o));
  }
  /** Closes the owners file and returns the interactions CSV text. */
  async close(): Promise<string> {
    await this.owners.close();
    return [
      HEADER,
      ...this.interactions.map((t) => `${t.id},${t.face},${t.time},${t.energyMeV},${t.electronMeV},${t.origin.replace(/[\r\n]/g, ' ')}`),
      '',
    ].join('\n');
  }
}

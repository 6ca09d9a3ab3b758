// The records of a run directory: config.json (ResolvedRun) and metrics.jsonl (one BatchRecord
// per training batch, one EpochRecord per epoch), the names of the scales and the histogram bins
// of the statistics, and the one metrics.jsonl reader. Loads no native code (report/ reads runs
// through this module without the libtorch addon).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { trainConfigSchema, type TrainConfig } from '../config/train-config.js';
import { checkJson, parseJson } from '../util/json-file.js';
import type { Term } from '../loss/yolo-loss.js';
import type { AugmentLog } from '../data/augment.js';

/** Names of the detection scales, coarse (stride 32) first. */
export const SCALE_NAMES = ['coarse', 'intermediate', 'detailed'] as const;

/** Bins over [0, 1] of the objectness and IoU histograms (ScaleSummary.objHist, iouHist). */
export const HIST_BINS = 50;

export interface ScaleSummary {
  count: number;
  avgObj: number | null;
  avgNoobj: number | null;
  avgIou: number | null;
  recall50: number | null;
  recall75: number | null;
  /** Histograms over [0, 1] in HIST_BINS bins. */
  objHist: number[];
  iouHist: number[];
  /** The per-box values themselves (rounded to 1e-4), coarse scale first. */
  objectness: number[];
  iou: number[];
}

export type TermRecord = Record<Term | 'total', number>;

/** Loss terms as means per image and the objective as the mean over batches (TermAccumulator.means). */
export interface TermMeans {
  objective: number;
  scales: TermRecord[];
}

/** What the trainer resolved from the config and the data (written to config.json). */
export interface ResolvedRun {
  config: TrainConfig;
  size: number;
  /** Pixel values are multiplied by this before the network. */
  inputScale: number;
  anchors: [number, number][][];
  strides: number[];
  classNames: string[];
  channels: number;
  device: string;
  threads: number;
  trainImages: number;
  valImages: number;
  batchesPerEpoch: number;
  warmupBatches: number;
}

const num = z.number();
const pair = z.tuple([num, num]);
const count = z.number().int().min(0);
/** config.json checked when read (`readResolvedRun`): a hand-edited or foreign file fails by field. */
export const resolvedRunSchema = z
  .object({
    config: trainConfigSchema,
    size: z.number().int().positive(),
    /** Absent in runs older than the input scale (read as 1). */
    inputScale: num.positive().optional(),
    anchors: z.array(z.array(pair).min(1)).min(1),
    strides: z.array(z.number().int().positive()).min(1),
    classNames: z.array(z.string()).min(1),
    channels: z.number().int().positive(),
    device: z.string(),
    threads: z.number().int().min(0),
    trainImages: z.number().int().min(0),
    valImages: z.number().int().min(0),
    batchesPerEpoch: z.number().int().min(0),
    warmupBatches: z.number().int().min(0),
    /** What train wrote beside the resolved run: the dataset's path and identity (checked on resume). */
    dataPath: z.string().optional(),
    dataset: z
      .object({
        images: count,
        channels: count,
        height: count,
        width: count,
        layout: z.string(),
        boxes: count,
        splits: z.record(z.string(), count),
        digest: z.string(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * A run's config.json as written (defaults not filled in, so what is used is what the file says),
 * after checking it against {@link resolvedRunSchema}.
 */
export function readResolvedRun(path: string): ResolvedRun {
  const raw = parseJson(path, readFileSync(path, 'utf8'));
  checkJson(path, raw, resolvedRunSchema);
  return raw as ResolvedRun;
}

/** done.json: how a finished run ended (written by the trainer; sweeps and plans skip such runs). */
export interface DoneRecord {
  reason: string;
  epochs: number;
  step: number;
  bestValLossPerImage?: number | null;
}
export const doneRecordSchema = z
  .object({
    reason: z.string(),
    epochs: count,
    step: count,
    bestValLossPerImage: num.nullable().optional(),
  })
  .strict();

/** A run's done.json, checked against {@link doneRecordSchema}. */
export function readDoneRecord(path: string): DoneRecord {
  const raw = parseJson(path, readFileSync(path, 'utf8'));
  checkJson(path, raw, doneRecordSchema);
  return raw as DoneRecord;
}

export interface BatchRecord {
  type: 'batch';
  step: number;
  epoch: number;
  batch: number;
  lr: number;
  warm: 0 | 1;
  size: number;
  objective: number;
  collisions: number;
  scales: TermRecord[];
}

export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  step: number;
  lr: number;
  seconds: number;
  warmFraction: number;
  train: { objective: number; scales: TermRecord[] };
  /**
   * lossPerImage: Σ over scales of the mean per-image total, the quantity the best checkpoint and
   * early stopping select on (the objective, a mean over batches of √(Σ batch loss), depends on the
   * batch size and on the last partial batch).
   */
  /**
   * map50 and ap50 are both AP@0.5 averaged over classes, named as stored in metrics.jsonl (kept
   * for old runs): map50 is VOC matching with all-point interpolation (MapReport.map50AllPoint),
   * ap50 COCO matching with 101-point interpolation (MapReport.ap50).
   */
  val: { objective: number; lossPerImage: number; scales: TermRecord[]; images: number; stats: ScaleSummary[]; map50: number | null; ap50: number | null };
  augment: AugmentLog;
  best: boolean;
}

// metrics.jsonl's records, checked line by line: the fields the report, `best` and resume read.
// Loss values may be null (a NaN written as JSON); the rest of a record passes as written.
const lossValue = z.number().nullable();
const terms = z.array(z.record(z.string(), lossValue));
const batchRecordSchema = z
  .object({
    type: z.literal('batch'),
    step: z.number().int().min(0),
    epoch: z.number().int().min(0),
    batch: z.number().int().min(0),
    lr: num,
    objective: lossValue,
    scales: terms,
  })
  .passthrough();
const epochRecordSchema = z
  .object({
    type: z.literal('epoch'),
    epoch: z.number().int().min(0),
    step: z.number().int().min(0),
    lr: num,
    train: z.object({ objective: lossValue, scales: terms }).passthrough(),
    val: z.object({ objective: lossValue, lossPerImage: lossValue, scales: terms }).passthrough(),
    best: z.boolean(),
  })
  .passthrough();
export const metricsRecordSchema = z.discriminatedUnion('type', [batchRecordSchema, epochRecordSchema]);

/**
 * Every record of metrics.jsonl in file order. A truncated final line (a run being written, or a
 * crash mid-append) is skipped; any other line that is not JSON is an error naming the line.
 */
export function parseMetricsRecords<T = BatchRecord | EpochRecord>(text: string, path = 'metrics.jsonl'): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) return; // still being written
      throw new UserError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const bad = badRecord(rec);
    if (bad) throw new UserError(`${path}:${i + 1}: ${bad}: not a record daqyolo train writes (a damaged or edited line)`);
    checkJson(`${path}:${i + 1}`, rec, metricsRecordSchema);
    out.push(rec as T); // as written: the schema checks, it does not rewrite
  });
  return out;
}

/**
 * What is wrong with a metrics record, or null: the fields every reader indexes by (epoch, batch,
 * step numbers, the per-scale arrays). Values that may be null (a NaN objective) are not checked.
 */
// Two checks per line, on purpose: badRecord names the defects that crashed readers before (a
// non-integer epoch, a record without scales) in words a user recognises ("epoch record with epoch
// \"x\""); the schema below it then checks every field of the record as train writes it.
function badRecord(rec: unknown): string | null {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return `${JSON.stringify(rec)} is not a record`;
  const r = rec as Record<string, unknown>;
  const count = (k: string) => (Number.isInteger(r[k]) && (r[k] as number) >= 0 ? null : `${r.type} record with ${k} ${JSON.stringify(r[k])}`);
  const scales = (k: string, o: unknown) =>
    typeof o === 'object' && o !== null && Array.isArray((o as { scales?: unknown }).scales) ? null : `${r.type} record without ${k}.scales`;
  if (r.type === 'epoch') return count('epoch') ?? count('step') ?? scales('train', r.train) ?? scales('val', r.val);
  if (r.type === 'batch') return count('epoch') ?? count('batch') ?? count('step') ?? scales('record', r);
  return null;
}

/** metrics.jsonl's records; none when the file does not exist yet. */
export function readMetricsRecords<T = BatchRecord | EpochRecord>(path: string): T[] {
  return existsSync(path) ? parseMetricsRecords<T>(readFileSync(path, 'utf8'), path) : [];
}

/** metrics.jsonl split into epoch records (by epoch) and batch records. */
export function parseMetrics(text: string, path = 'metrics.jsonl'): { epochs: EpochRecord[]; batches: BatchRecord[] } {
  const recs = parseMetricsRecords<{ type?: string }>(text, path);
  const epochs = recs.filter((r) => r.type === 'epoch') as EpochRecord[];
  const batches = recs.filter((r) => r.type === 'batch') as BatchRecord[];
  // A resumed run truncates metrics to its checkpoint, so epochs are unique; sort defensively.
  epochs.sort((a, b) => a.epoch - b.epoch);
  return { epochs, batches };
}

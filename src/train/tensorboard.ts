// TensorBoard view of a run: the records of metrics.jsonl as event-file summaries, in one file
// beside metrics.jsonl (`tensorboard --logdir runs/` lists every run directory as a run). Every
// scalar is a field of a metrics.jsonl record at that record's global step, so the two never
// disagree (test/train-tensorboard.test.ts reads both back, the event file with TensorBoard's
// own EventAccumulator).
//
// Resume rule: truncation, as for metrics.jsonl. A checkpoint keeps the event file's size
// (CheckpointMeta.eventsBytes) and a resumed run cuts the file back to it before appending, so
// the file holds each step once, whatever reads it (TensorBoard would hide the orphaned steps of a
// second file after a SessionLog START, but pandas/tbparse readers would not) and a run stays one
// file with its original wall times.
import { readdirSync, truncateSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EventFileWriter, unitHistogram } from '../util/tfevents.js';
import { SCALE_NAMES, type BatchRecord, type EpochRecord, type ResolvedRun, type TermRecord } from '../schema/run.js';

/** The run directory's event file, if it has one. */
export function findEventFile(dir: string): string | null {
  const name = readdirSync(dir)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()[0];
  return name ? join(dir, name) : null;
}

const scaleName = (s: number) => SCALE_NAMES[s] ?? `scale${s}`;

/** Tag → value of every loss term per scale, under `prefix` ("train", "val", "batch"). */
function termScalars(prefix: string, scales: readonly TermRecord[], out: Record<string, number>): void {
  scales.forEach((terms, s) => {
    for (const [term, v] of Object.entries(terms)) out[`${prefix}/${scaleName(s)}/${term}`] = v;
  });
}

/** The scalars of an epoch record, tag → value (what the event file holds at record.step). */
export function epochScalars(r: EpochRecord): Record<string, number> {
  const out: Record<string, number> = {
    'epoch/epoch': r.epoch,
    'epoch/lr': r.lr,
    'epoch/warm_fraction': r.warmFraction,
    'epoch/seconds': r.seconds,
    'train/objective': r.train.objective,
    'val/objective': r.val.objective,
    'val/loss_per_image': r.val.lossPerImage,
  };
  if (r.val.map50 !== null) out['val/map50'] = r.val.map50;
  if (r.val.ap50 !== null) out['val/ap50_coco'] = r.val.ap50;
  termScalars('train', r.train.scales, out);
  termScalars('val', r.val.scales, out);
  r.val.stats.forEach((st, s) => {
    const stats = { avgObj: st.avgObj, avgNoobj: st.avgNoobj, avgIou: st.avgIou, recall50: st.recall50, recall75: st.recall75 };
    for (const [k, v] of Object.entries(stats)) if (v !== null) out[`stats/${scaleName(s)}/${k}`] = v;
  });
  return out;
}

/** The scalars of a batch record (written only when metrics.jsonl has batch records: logBatches). */
export function batchScalars(r: BatchRecord): Record<string, number> {
  const out: Record<string, number> = { 'batch/objective': r.objective, 'batch/lr': r.lr, 'batch/warm': r.warm, 'batch/size': r.size };
  termScalars('batch', r.scales, out);
  return out;
}

/** The resolved run as Markdown (a JSON code block) for the text plugin. */
export const configMarkdown = (run: unknown) =>
  JSON.stringify(run, null, 2)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

export class RunEvents {
  readonly writer: EventFileWriter;

  /**
   * Opens the run's event file: a new one (with the resolved config as text) for a new run; for a
   * resumed run the existing one cut back to `resumeBytes` (the checkpoint's eventsBytes), or a
   * new one when the checkpoint predates event files (no eventsBytes) or the file is gone. A new
   * run that finds a file (a run started again before its first checkpoint) starts it afresh.
   */
  constructor(dir: string, run: ResolvedRun, resumeBytes: number | null, o: { now?: () => number } = {}) {
    const existing = findEventFile(dir);
    if (existing && resumeBytes !== null) {
      this.writer = new EventFileWriter(existing, o);
      this.writer.truncate(resumeBytes);
      return;
    }
    if (existing) truncateSync(existing, 0);
    const t = Math.floor(o.now?.() ?? Date.now() / 1000);
    this.writer = new EventFileWriter(existing ?? join(dir, `events.out.tfevents.${t}.${hostname()}.daqyolo`), o);
    this.writer.text(0, 'config', configMarkdown(run));
    this.writer.flush();
  }

  batch(r: BatchRecord): void {
    this.writer.scalars(r.step, batchScalars(r));
  }

  /** An epoch's scalars and its histograms (objectness and IoU of the responsible predictions per scale); flushed. */
  epoch(r: EpochRecord): void {
    this.writer.scalars(r.step, epochScalars(r));
    r.val.stats.forEach((st, s) => {
      if (!st.count) return;
      this.writer.histogram(r.step, `hist/${scaleName(s)}/objectness`, unitHistogram(st.objHist, st.objectness));
      this.writer.histogram(r.step, `hist/${scaleName(s)}/iou`, unitHistogram(st.iouHist, st.iou));
    });
    this.writer.flush();
  }

  flush(): void {
    this.writer.flush();
  }
  bytes(): number {
    return this.writer.bytes();
  }
}

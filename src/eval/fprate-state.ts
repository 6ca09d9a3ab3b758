// The resumable state of `fprate` (eval/fprate-seed<seed>[-shard<i>of<n>].json): its record type,
// its validation, and what it was measured with. A state is reused only for the same weights and the
// same stream, recognised by content — the checkpoint file's SHA-256 and a digest of the simulator
// configuration — not by the path typed (a relative or absolute path, a moved or copied run all
// resume), and a replaced checkpoint (train --resume, then fprate) starts over instead of printing
// the old weights' histogram. Every state read is checked field by field (zod): a truncated or
// hand-edited file is one line naming the file, never a stack or a quietly wrong table (issue 30).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';

/** Score histogram resolution: thresholds are exact to 1/SCORE_BINS. */
export const SCORE_BINS = 1000;

/**
 * ΣADC binning of the hybrid histogram (`adcCounts`): bins ADC_BIN wide from 0, the last open
 * above. 100 ADC is finer than the baseline's cuts move between rates (3 138 at 1.8 Hz, 2 643 at
 * 10 Hz, docs/budget.md) and 80 bins reach past them to 7 900.
 */
export const ADC_BIN = 100;
export const ADC_BINS = 80;

/** The ΣADC bin of a candidate (the last bin holds everything from (ADC_BINS − 1)·ADC_BIN up). */
export const adcBinOf = (sumAdc: number): number => Math.min(ADC_BINS - 1, Math.max(0, Math.floor(sumAdc / ADC_BIN)));

/**
 * The score cut that passes nothing. Scores are ≤ 1, and a saturated sigmoid gives exactly 1 in
 * float32, so "score ≥ 1" still passes boxes; and the histogram keeps score 1 in its top bin
 * [0.999, 1], so a cut at 1 read from it would claim 0 FP while passing those boxes. When no
 * histogram edge meets a rate, the cut is this: the trigger fires on nothing, efficiency 0.
 */
export const NOTHING_PASSES = 1 + Number.EPSILON;

/** A score cut as the reader wants it: "score ≥ t", or "nothing passes" above every score. */
export const scoreCutText = (t: number, digits = 3): string => (t > 1 ? 'nothing passes (score > 1)' : `score ≥ ${t.toFixed(digits)}`);

export interface FpShard {
  index: number;
  count: number;
  /** The whole stream: images and inference batch size (shards are blocks of whole batches). */
  totalImages: number;
  batch: number;
  /** This shard's first image (offset into the whole stream) and its number of images. */
  first: number;
  images: number;
}

export interface FpState {
  /** The run and checkpoint as typed when the state was last written (for the reader; not compared). */
  run: string;
  checkpoint: string;
  /** SHA-256 of the checkpoint file: what the state is reused by. Absent in states of older versions. */
  checkpointDigest?: string;
  /** Digest of the streamed simulator configuration. Absent in states of older versions. */
  streamDigest?: string;
  seed: number;
  /** Index of the first streamed image (past the dataset's own images). */
  start: number;
  images: number;
  /** counts[i] = detections with score in [i, i+1) / SCORE_BINS; the top bin is closed: [0.999, 1]. */
  counts: number[];
  seconds: number;
  /**
   * The same detections by ΣADC too: adcCounts[a][i] = detections in score bin i whose box holds
   * ΣADC in bin a (adcBinOf: the ADC of the TPs whose pixel centre lies in the box, the TP rule's
   * "held"). What a hybrid trigger's FP rate, score ≥ s and ΣADC ≥ a, is read from. Absent in states
   * of older versions (and kept absent when one is resumed: its first images were not binned so).
   */
  adcCounts?: number[][];
  /** Present in a shard's file: which block of the whole stream it measures. */
  shard?: FpShard;
  /** The highest-scoring background images seen (what the trigger fires on at the lowest rates).
   *  Absent in states of older versions. */
  top?: FpTop;
}

/** One background image of the stream and its highest-scoring candidate. */
export interface FpTopImage {
  /** The image's index in the simulated stream (state.start + its position): what regenerates it. */
  image: number;
  score: number;
  /** The candidate's box in pixels [x1, y1, x2, y2]. */
  box: [number, number, number, number];
}

/** The `keep` highest-scoring images among the first `images` of the state's count (fewer than the
 *  state's images when an older state without this list was resumed), best first. */
export interface FpTop {
  keep: number;
  images: number;
  list: FpTopImage[];
}

/** Best first; equal scores by stream index, so shards merge to what one stream keeps. */
const topOrder = (a: FpTopImage, b: FpTopImage) => b.score - a.score || a.image - b.image;

/** Offers an image's best candidate to the list (kept sorted, at most `keep`). */
export function offerTop(top: FpTop, candidate: FpTopImage): void {
  const { list } = top;
  if (list.length >= top.keep && topOrder(candidate, list[list.length - 1]!) >= 0) return;
  let at = list.length;
  while (at > 0 && topOrder(candidate, list[at - 1]!) < 0) at--;
  list.splice(at, 0, candidate);
  if (list.length > top.keep) list.length = top.keep;
}

/** The lists of a stream's shards as one: what one stream over all of them would keep (absent if a shard has none). */
export function mergeTops(tops: (FpTop | undefined)[]): FpTop | undefined {
  if (tops.length === 0 || tops.some((t) => !t)) return undefined;
  const keep = Math.min(...tops.map((t) => t!.keep));
  const list = tops
    .flatMap((t) => t!.list)
    .sort(topOrder)
    .slice(0, keep);
  return { keep, images: tops.reduce((a, t) => a + t!.images, 0), list };
}

/** Shard i of n of a stream of `total` images in batches of `batch`: a block of whole batches. */
export function shardRange(index: number, count: number, total: number, batch: number): { first: number; images: number } {
  const batches = Math.ceil(total / batch);
  const first = Math.min(total, Math.floor((batches * index) / count) * batch);
  const end = Math.min(total, Math.floor((batches * (index + 1)) / count) * batch);
  return { first, images: end - first };
}

const count = z.number().int().min(0);
const digest = z.string().regex(/^[0-9a-f]{64}$/);
const shardSchema = z
  .object({
    index: count,
    count: count.min(1),
    totalImages: count.min(1),
    batch: count.min(1),
    first: count,
    images: count,
  })
  .strict()
  .superRefine((s, ctx) => {
    const want = shardRange(s.index, s.count, s.totalImages, s.batch);
    if (s.index >= s.count) ctx.addIssue({ code: 'custom', message: `index ${s.index} is not below count ${s.count}` });
    else if (s.first !== want.first || s.images !== want.images) {
      ctx.addIssue({
        code: 'custom',
        message: `images ${s.first}+${s.images} are not block ${s.index} of ${s.count} of ${s.totalImages} in batches of ${s.batch} (${want.first}+${want.images})`,
      });
    }
  });
const stateSchema = z
  .object({
    run: z.string(),
    checkpoint: z.string(),
    checkpointDigest: digest.optional(),
    streamDigest: digest.optional(),
    seed: count,
    start: count,
    images: count,
    counts: z.array(count).length(SCORE_BINS),
    seconds: z.number().min(0).finite(),
    adcCounts: z.array(z.array(count).length(SCORE_BINS)).length(ADC_BINS).optional(),
    shard: shardSchema.optional(),
    top: z
      .object({
        keep: count.min(1),
        images: count,
        list: z.array(z.object({ image: count, score: z.number().min(0).max(1), box: z.tuple([z.number(), z.number(), z.number(), z.number()]) }).strict()),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.shard && s.images > s.shard.images)
      ctx.addIssue({ code: 'custom', path: ['images'], message: `${s.images} images counted in a shard of ${s.shard.images}` });
    if (s.top && s.top.images > s.images)
      ctx.addIssue({ code: 'custom', path: ['top', 'images'], message: `${s.top.images} images in the list of a count of ${s.images}` });
    const adcTotal = s.adcCounts?.reduce((a, row) => a + row.reduce((b, c) => b + c, 0), 0);
    const total = s.counts.reduce((a, c) => a + c, 0);
    if (adcTotal !== undefined && adcTotal !== total)
      ctx.addIssue({ code: 'custom', path: ['adcCounts'], message: `${adcTotal} detections, not the ${total} of counts` });
    if (s.top && s.top.list.length > s.top.keep)
      ctx.addIssue({ code: 'custom', path: ['top', 'list'], message: `${s.top.list.length} images, more than keep ${s.top.keep}` });
  });

/** Reads and checks a state file: a damaged one is a UserError naming the file and the field. */
export function readFpState(path: string): FpState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e; // a file-system error: the CLI names path and cause
    throw new UserError(`${path}: not an fprate state (${(e as Error).message}); delete it to start again`);
  }
  const r = stateSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : 'the file';
    throw new UserError(`${path}: not an fprate state (${field}: ${issue.message}); delete it to start again`);
  }
  return r.data;
}

/** SHA-256 of a file's bytes (a checkpoint: what a state was measured with). */
export function fileDigest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Digest of a JSON-able value (the streamed simulator configuration). */
export function jsonDigest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

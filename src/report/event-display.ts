// Event displays for the report: a few held-out images (channel × time, log colour scale, drawn
// by the same renderer as `daqyolo show`) with the truth boxes and each run's top detections
// overlaid as Vega-Lite marks, so axes, units and the run legend match every other plot.
import { basename } from 'node:path';
import { openDataset, type DatasetReader } from '../data/store.js';
import { renderEvent } from '../data/render.js';
import { predict } from '../infer/predict.js';
import { openRun } from '../infer/open-run.js';
import type { RunData } from './load.js';
import { SCHEMA, runColor, type Figure } from './figure.js';
import type { Spec } from './vega.js';

export interface EventOptions {
  /** How many images (default 3). */
  count?: number;
  /** libtorch threads for inference (0 = default). */
  threads?: number;
}

/** The first `count` images of the eval split (else val) that hold at least one truth box. */
export function pickImages(reader: DatasetReader, count: number): { split: string; indices: number[] } {
  for (const split of ['eval', 'val'] as const) {
    const indices: number[] = [];
    for (const i of reader.split(split)) {
      if (reader.boxes(i).length) indices.push(i);
      if (indices.length === count) break;
    }
    if (indices.length) return { split, indices };
  }
  return { split: 'eval', indices: [] };
}

interface Det { x1: number; y1: number; x2: number; y2: number; score: number }

/** Detections of one image by every run that can be loaded; failures become notes. */
function detectAll(runs: readonly RunData[], reader: DatasetReader, indices: number[], threads: number, notes: string[]): Map<string, Det[][]> {
  const out = new Map<string, Det[][]>();
  for (const r of runs) {
    let opened: ReturnType<typeof openRun>;
    try {
      opened = openRun(r.dir, { threads });
    } catch (e) {
      notes.push(`${r.label}: no detections drawn (${(e as Error).message})`);
      continue;
    }
    try {
      const plane = reader.channels * reader.height * reader.width;
      out.set(r.label, indices.map((i) => {
        const image = { image: reader.readDense([i]).subarray(0, plane), channels: reader.channels, height: reader.height, width: reader.width };
        return predict(opened.ctx, [image])[0]!.map(({ x1, y1, x2, y2, score }) => ({ x1, y1, x2, y2, score }));
      }));
    } finally {
      opened.model.dispose();
    }
  }
  return out;
}

/** Pixels per image pixel so that the display is about 420 px across. */
const zoomFor = (w: number, h: number) => Math.max(1, Math.min(8, Math.round(420 / Math.max(w, h))));

export function eventFigures(runs: readonly RunData[], o: EventOptions = {}): { figures: Figure[]; notes: string[] } {
  const notes: string[] = [];
  const data = runs[0]?.run.config.data;
  if (!data) return { figures: [], notes };
  let reader: DatasetReader;
  try {
    reader = openDataset(data);
  } catch (e) {
    return { figures: [], notes: [`event displays need the dataset ${data} (${(e as Error).message})`] };
  }
  try {
    const { split, indices } = pickImages(reader, o.count ?? 3);
    if (!indices.length) return { figures: [], notes: [`${data}: no image with a truth box in the eval or val split`] };
    const usable = runs.filter((r) => r.run.config.data === data);
    for (const r of runs) if (!usable.includes(r)) notes.push(`${r.label}: trained on ${r.run.config.data}, not ${data}; not drawn on the event displays`);
    const dets = detectAll(usable, reader, indices, o.threads ?? 0, notes);
    const labels = runs.map((r) => r.label);
    const figures = indices.map((index, k) => {
      const { height: H, width: W } = reader;
      const s = zoomFor(W, H);
      const img = reader.readDense([index]);
      const png = renderEvent(img, reader, [], [], { scale: s, channel: 0 });
      const boxes = reader.boxes(index);
      const inter = reader.interactions(index);
      const values: Record<string, unknown>[] = [{ kind: 'image', url: `data:image/png;base64,${png.toString('base64')}` }];
      for (const b of boxes) {
        const e = inter[b.interaction];
        values.push({ kind: 'truth', run: 'truth', x1: b.x1, x2: b.x2, y1: b.y1, y2: b.y2, label: e ? `${e.energyMeV.toFixed(1)} MeV` : 'truth' });
      }
      const top = Math.max(2, boxes.length);
      for (const [run, perImage] of dets) {
        for (const d of [...perImage[k]!].sort((a, b) => b.score - a.score).slice(0, top)) {
          values.push({ kind: 'pred', run, x1: d.x1, x2: d.x2, y1: d.y1, y2: d.y2, label: d.score.toFixed(2), score: d.score });
        }
      }
      const color = runColor(labels, { domain: ['truth'], range: ['#dddddd'] });
      const x = { field: 'x1', type: 'quantitative', title: 'channel (px)', scale: { domain: [0, W], nice: false } };
      const y = { field: 'y1', type: 'quantitative', title: 'time (px, increasing downwards)', scale: { domain: [0, H], nice: false, reverse: true } };
      return {
        id: `event-${index}`,
        section: 'Event displays',
        title: `${basename(data)} image ${index} (${split} split): truth and detections`,
        caption: `Log colour scale of the ADC integral per pixel. Dashed grey: truth boxes labelled with Eν; coloured: each run's ${top} highest-scoring detections after NMS, labelled with their score. ` +
          `${inter.length} interaction(s): ${inter.map((t) => `${t.process} ${t.energyMeV.toFixed(1)} MeV${t.box < 0 ? ' (no TP)' : ''}`).join(', ')}.`,
        spec: {
          $schema: SCHEMA, width: W * s, height: H * s, data: { values },
          layer: [
            {
              transform: [{ filter: "datum.kind === 'image'" }],
              mark: { type: 'image', aspect: false, align: 'left', baseline: 'top', width: W * s, height: H * s, smooth: false },
              encoding: { x: { value: 0 }, y: { value: 0 }, url: { field: 'url', type: 'nominal' } },
            },
            // Truth dashed, detections solid: two layers (a rect's dash cannot be encoded per datum).
            ...(['truth', 'pred'] as const).map((kind) => ({
              transform: [{ filter: `datum.kind === '${kind}'` }],
              mark: { type: 'rect', filled: false, strokeWidth: 2, ...(kind === 'truth' ? { strokeDash: [5, 3] } : {}) },
              encoding: { x, x2: { field: 'x2' }, y, y2: { field: 'y2' }, color, tooltip: [{ field: 'run' }, { field: 'label' }] },
            })),
            {
              transform: [{ filter: "datum.kind !== 'image'" }],
              mark: { type: 'text', align: 'left', baseline: 'bottom', dy: -2, fontSize: 11, fontWeight: 'bold' },
              encoding: { x, y, text: { field: 'label' }, color },
            },
          ],
        } as Spec,
      } satisfies Figure;
    });
    return { figures, notes };
  } finally {
    reader.close();
  }
}

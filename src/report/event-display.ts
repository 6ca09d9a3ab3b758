// Event displays for the report: a few held-out images drawn by the renderer of `daqyolo show`
// and `detect` (event-scene.ts: every TP coloured by ΣADC, shaped by its source, channel and
// tick/µs axes), framed on the interaction, one display per run with that run's detections.
import { basename } from 'node:path';
import { openDataset, type DatasetReader } from '../data/store.js';
import { predict } from '../infer/predict.js';
import { openRun } from '../infer/open-run.js';
import type { RunData } from './load.js';
import type { Figure } from './figure.js';
import { datasetScene, eventSvg, frameInteraction, sceneDetections, sceneMatchRule } from './event-scene.js';

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

interface Det {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  cls: number;
}

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
      out.set(
        r.label,
        indices.map((i) => {
          const image = { image: reader.readDense([i]).subarray(0, plane), channels: reader.channels, height: reader.height, width: reader.width };
          return predict(opened.ctx, [image])[0]!.map(({ x1, y1, x2, y2, score, cls }) => ({ x1, y1, x2, y2, score, cls }));
        }),
      );
    } finally {
      opened.model.dispose();
    }
  }
  return out;
}

/** Detections drawn on the report's displays: at least this score (detect's default). */
export const DISPLAY_SCORE = 0.3;

export function eventFigures(runs: readonly RunData[], o: EventOptions = {}): { figures: Figure[]; notes: string[] } {
  const notes: string[] = [];
  const data = runs[0]?.run.config.data;
  if (!data) return { figures: [], notes };
  let reader: ReturnType<typeof openDataset>;
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
    const figures: Figure[] = [];
    indices.forEach((index, k) => {
      const base = datasetScene(reader, index, '');
      const view = frameInteraction(base);
      const inter = reader.interactions(index);
      const what = `${inter.length} interaction(s): ${inter.map((t) => `${t.process} ${t.energyMeV.toFixed(1)} MeV${t.box < 0 ? ' (no TP)' : ''}`).join(', ')}.`;
      // One display per run (detections of one network each), or the truth alone when no run loads.
      const perRun: [string | null, Det[] | null][] = dets.size ? [...dets].map(([run, d]) => [run, d[k]!]) : [[null, null]];
      perRun.forEach(([run, d], j) => {
        const scene = {
          ...base,
          title: `${basename(data)} image ${index} (${split} split)${run ? `: ${run}` : ''}`,
          detections: d
            ? sceneDetections(
                d.filter((x) => x.score >= DISPLAY_SCORE),
                base.truths,
                base.tps,
              )
            : [],
          detectionNote: d
            ? `detections of ${run}: score ≥ ${DISPLAY_SCORE} after NMS (as evaluate); on an interaction = ${sceneMatchRule(base.tps)}`
            : undefined,
        };
        figures.push({
          id: `event-${index}${perRun.length > 1 ? `-${j}` : ''}`,
          section: 'Event displays',
          title: scene.title,
          caption:
            `Framed on the highest-Eν interaction (\`daqyolo show ${data} --index ${index}\` draws the whole image). ` +
            'Every TP a marker coloured by its ΣADC (log scale), shaped by its source; dashed red: truth boxes with Eν and the sources of their TPs; ' +
            `blue: detections on an interaction, orange: false positives, each with its score. ${what}`,
          svg: eventSvg(scene, { view, plotWidth: 620 }),
        });
      });
    });
    return { figures, notes };
  } finally {
    reader.close();
  }
}

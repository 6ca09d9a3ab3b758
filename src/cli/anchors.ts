// `daqyolo anchors`: IoU k-means anchors of a dataset's training boxes, per scale.
import { Command } from 'commander';
import { openDataset } from '../data/store.js';
import { kmeansAnchors, assignToScales } from '../anchors/kmeans.js';
import { SCALE_NAMES } from '../schema/run.js';
import { count, integer, oneOf, MAX } from './options.js';
import { SPLIT_NAMES } from '../data/splits.js';

export function registerAnchors(program: Command): void {
  program
    .command('anchors <dataset>')
    .description("IoU k-means anchors of the training split's boxes (k-means++ and seeded restarts)")
    .option('--num <k>', 'number of anchors (9 for YOLOv3, 6 for YOLOv3-tiny)', count(100), 9)
    .option('--size <px>', 'network input size the anchors are for (boxes are scaled to it)', integer({ min: 32, max: MAX.imageSize }))
    .option('--split <name>', 'train, val or eval', oneOf(SPLIT_NAMES), 'train')
    .option('--restarts <n>', 'seeded restarts (the best mean IoU wins)', count(10_000), 10)
    .option('--seed <n>', 'seed', integer({ max: MAX.seed }), 0)
    .option('--json', 'print JSON')
    .action((path: string, o) => {
      const reader = openDataset(path);
      const size = o.size ?? Math.max(reader.height, reader.width);
      const scale = Math.min(size / reader.height, size / reader.width);
      const { w, h } = reader.boxSizes(o.split);
      reader.close();
      const r = kmeansAnchors(
        w.map((x) => x * scale),
        h.map((x) => x * scale),
        { k: o.num, restarts: o.restarts, seed: o.seed },
      );
      const scales = r.anchors.length % 3 === 0 ? r.anchors.length / 3 : 1;
      const perScale = assignToScales(r.anchors, scales);
      const result = {
        dataset: path,
        split: o.split,
        boxes: w.length,
        size,
        anchors: r.anchors.map(([a, b]) => [round(a), round(b)]),
        meanBestIou: r.meanBestIou,
        counts: r.counts,
        perScale: perScale.map((list, s) => ({
          scale: scales === 3 || scales === 2 ? SCALE_NAMES[s] : `scale ${s}`,
          anchors: list.map(([a, b]) => [round(a), round(b)]),
        })),
      };
      if (o.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      console.log(`${path} [${o.split}]: ${w.length} boxes, anchors for ${size} px input (IoU k-means, k = ${o.num}, ${o.restarts} restarts)`);
      r.anchors.forEach(([a, b], i) => console.log(`  [${round(a)}, ${round(b)}]  owns ${r.counts[i]} boxes`));
      for (const s of result.perScale) console.log(`${s.scale}: ${s.anchors.map(([a, b]) => `[${a},${b}]`).join(' ')}`);
      console.log(`mean best IoU ${r.meanBestIou.toFixed(3)}`);
    });
}

const round = (x: number) => Math.round(x * 10) / 10;

// Decoding raw head outputs into boxes in network-input pixels with objectness and class
// scores, followed by NMS per image. The score of a box is σ(t_o) × softmax(class logits)
// (the loss trains the classes with softmax cross-entropy; with one class it is σ(t_o)).
import { Tensor, tidy, noGrad, cat, tensor } from '../torch/index.js';
import { nms, type NmsOptions } from './nms.js';

export interface DecodedBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  objectness: number;
  cls: number;
  /** Head index (0 = coarse). */
  scale: number;
}

/** Detections below this score are dropped before NMS; 0.005 keeps the PR curve complete. */
export const DEFAULT_SCORE_THRESHOLD = 0.005;

export interface DecodeOptions {
  anchors: [number, number][][];
  netH: number;
  netW: number;
  /** Boxes below this score are dropped before NMS (0.005 keeps the PR curve complete). */
  scoreThreshold?: number;
  nms?: Partial<NmsOptions> | false;
}

/**
 * Decodes a batch of head outputs. Returns, per image, the detections after NMS (or all boxes
 * above the score threshold when `nms` is false), highest score first.
 */
export function decodeOutputs(outputs: Tensor[], o: DecodeOptions): DecodedBox[][] {
  const thr = o.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
  const B = outputs[0]!.size(0);
  // One [N, 9] table per batch: image, x1, y1, x2, y2, score, objectness, class, scale.
  const table = noGrad(() =>
    tidy(() => {
      const parts: Tensor[] = [];
      outputs.forEach((out, s) => {
        const [, ch, gh, gw] = out.shape as [number, number, number, number];
        const anchors = o.anchors[s]!;
        const A = anchors.length;
        const D = ch / A;
        const p = out.permute(0, 2, 3, 1).reshape(B, gh, gw, A, D).to('float32');
        const obj = p.select(-1, 4).sigmoid();
        // With one class (or none) softmax is exactly 1 and the class index 0, so the score is σ(t_o)
        // bit for bit; the softmax and max over every cell were ≈ 5 % of a one-process FP count's profile.
        const best =
          D > 6
            ? p
                .narrow(-1, 5, D - 5)
                .softmax(-1)
                .max(-1)
            : null;
        const score = best ? obj.mul(best.values) : obj;
        const keep = score.ge(thr);
        const idx = keep.nonzero(); // [N, 4]: b, row, col, a
        if (idx.size(0) === 0) return;
        const sel = (t: Tensor) => t.index([idx.select(1, 0), idx.select(1, 1), idx.select(1, 2), idx.select(1, 3)]);
        const txy = sel(p.narrow(-1, 0, 2).sigmoid());
        const twh = sel(p.narrow(-1, 2, 2));
        const col = idx.select(1, 2).to('float32');
        const row = idx.select(1, 1).to('float32');
        const a = idx.select(1, 3);
        const cx = col.add(txy.select(1, 0)).mul(o.netW / gw);
        const cy = row.add(txy.select(1, 1)).mul(o.netH / gh);
        // Each box's anchor [w, h], picked by its anchor index.
        const anchorWh = tensor(anchors.flat(), { device: out.device }).reshape(A, 2).indexSelect(0, a);
        const w = twh.select(1, 0).exp().mul(anchorWh.select(1, 0));
        const h = twh.select(1, 1).exp().mul(anchorWh.select(1, 1));
        parts.push(
          cat(
            [
              idx.select(1, 0).to('float32').unsqueeze(1),
              cx.sub(w.div(2)).unsqueeze(1),
              cy.sub(h.div(2)).unsqueeze(1),
              cx.add(w.div(2)).unsqueeze(1),
              cy.add(h.div(2)).unsqueeze(1),
              sel(score).unsqueeze(1),
              sel(obj).unsqueeze(1),
              best ? sel(best.indices).to('float32').unsqueeze(1) : a.mul(0).to('float32').unsqueeze(1),
              a.mul(0).add(s).to('float32').unsqueeze(1),
            ],
            1,
          ),
        );
      });
      return parts.length ? (cat(parts, 0).dataSync() as Float32Array) : new Float32Array(0);
    }),
  );
  const perImage: DecodedBox[][] = Array.from({ length: B }, () => []);
  for (let i = 0; i < table.length; i += 9) {
    perImage[table[i]!]!.push({
      x1: table[i + 1]!,
      y1: table[i + 2]!,
      x2: table[i + 3]!,
      y2: table[i + 4]!,
      score: table[i + 5]!,
      objectness: table[i + 6]!,
      cls: table[i + 7]!,
      scale: table[i + 8]!,
    });
  }
  if (o.nms === false) return perImage.map((l) => l.sort((a, b) => b.score - a.score));
  return perImage.map((list) => {
    const n = list.length;
    const boxes = new Float32Array(n * 4);
    const scores = new Float32Array(n);
    const classes = new Int32Array(n);
    list.forEach((d, i) => {
      boxes.set([d.x1, d.y1, d.x2, d.y2], i * 4);
      scores[i] = d.score;
      classes[i] = d.cls;
    });
    const kept = nms({ boxes, scores, classes }, { scoreThreshold: thr, ...(o.nms ?? {}) });
    return Array.from(kept, (k) => list[k]!);
  });
}

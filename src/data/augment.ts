// Augmentations that make sense for DAQ trigger-primitive images, applied to one dense image
// [C, H, W] (x = channel, y = time) and its boxes. Each is switchable; the boxes follow.
// Deterministic: every random choice comes from the Rng passed in.
import type { Rng } from '../util/rng.js';

export interface AugmentOptions {
  timeJitter: number;
  flipChannels: number;
  flipTime: number;
  timeStretch: number;
  tpDropout: number;
  noiseTps: number;
  overlayBackground: number;
  /**
   * Not an augmentation but a rule for the two that cut boxes at the image's time edges
   * (timeJitter, timeStretch): a box left holding less than this fraction of its non-zero
   * pixels is marked `ignore` (0 or absent: cut boxes stay positives, as before).
   */
  minVisible?: number;
}

/**
 * A truth box; `difficult` (VOC) is carried through for the mAP figures, which leave such boxes
 * out; `ignore` marks a box that is no training positive but joins the loss's ignore mask
 * (train.positiveMinTps).
 */
export interface AugBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cls: number;
  difficult?: boolean;
  ignore?: boolean;
}

export interface AugImage {
  data: Float32Array; // [C, H, W]
  /** Indices (y·W + x) of the non-zero pixels as stored, when known (sparse datasets). */
  nonzero?: Int32Array | null;
  channels: number;
  height: number;
  width: number;
  boxes: AugBox[];
  /** The dataset's channel_names; a noise hit combines each channel as the simulator does. */
  channelNames?: readonly string[];
}

/** Channels the simulator fills with the maximum over a pixel's TPs (sim/image.ts tpsToSparse); the others add. */
const MAX_CHANNELS: ReadonlySet<string> = new Set(['peak_adc']);

/** Which augmentations fired for one image (logged per epoch as counts). */
export type AugmentLog = Partial<Record<keyof AugmentOptions, number>>;

export const isAugmenting = (o: AugmentOptions): boolean => Object.entries(o).some(([k, v]) => k !== 'minVisible' && v > 0);

function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(rng)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng();
  } while (p > l);
  return k - 1;
}
function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Moves rows by a per-row map (source row → destination row or −1), summing collisions. */
function remapRows(img: AugImage, dest: (y: number) => number): void {
  const { data, channels: C, height: H, width: W } = img;
  const out = new Float32Array(data.length);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const ny = dest(y);
      if (ny < 0 || ny >= H) continue;
      const src = (c * H + y) * W;
      const dst = (c * H + ny) * W;
      for (let x = 0; x < W; x++) out[dst + x]! += data[src + x]!;
    }
  }
  img.data = out;
}

/** Moves every row by dy in place (vacated rows become zero): a memmove per channel plane. */
function shiftRows(img: AugImage, dy: number): void {
  const { data, channels: C, height: H, width: W } = img;
  const d = Math.max(-H, Math.min(H, dy));
  for (let c = 0; c < C; c++) {
    const plane = data.subarray(c * H * W, (c + 1) * H * W);
    if (d > 0) {
      plane.copyWithin(d * W, 0, (H - d) * W);
      plane.fill(0, 0, d * W);
    } else if (d < 0) {
      plane.copyWithin(0, -d * W, H * W);
      plane.fill(0, (H + d) * W, H * W);
    }
  }
}

/** Mirrors the rows (time axis) in place. */
function flipRows(img: AugImage): void {
  const { data, channels: C, height: H, width: W } = img;
  const tmp = new Float32Array(W);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H >> 1; y++) {
      const a = (c * H + y) * W;
      const b = (c * H + H - 1 - y) * W;
      tmp.set(data.subarray(a, a + W));
      data.copyWithin(a, b, b + W);
      data.set(tmp, b);
    }
  }
}

/** Maps boxes' y extent, clips to the image, drops boxes left with no height. */
function mapBoxesY(img: AugImage, f: (y: number) => number): void {
  img.boxes = img.boxes
    .map((b) => {
      const a = f(b.y1);
      const c = f(b.y2);
      return { ...b, y1: Math.max(0, Math.min(a, c)), y2: Math.min(img.height, Math.max(a, c)) };
    })
    .filter((b) => b.y2 - b.y1 >= 1);
}

/**
 * Marks `ignore` each box that keeps less than `minVisible` of its non-zero pixels (channel 0)
 * once the rows for which `kept(y)` is false leave the image. Why: a shift or stretch that cuts
 * an interaction to an edge sliver of two or three TPs would otherwise teach that sliver as an
 * interaction, and a network that sees only occupied sites (sparse-yolov3) learns to fire on
 * small clusters at the edges (docs/engine.md, "What the sparse network's background tail is
 * made of"). Marked boxes stay in the ignore mask: a prediction on one costs nothing either way.
 * Returns how many boxes it marked that keep a row in the image (the others are dropped).
 */
function markCutBoxes(img: AugImage, kept: (y: number) => boolean, minVisible: number): number {
  if (!(minVisible > 0)) return 0;
  const { data, height: H, width: W } = img;
  let marked = 0;
  img.boxes = img.boxes.map((b) => {
    if (b.ignore) return b;
    let total = 0;
    let inside = 0;
    let rowsKept = 0;
    const x0 = Math.max(0, Math.floor(b.x1));
    const x1 = Math.min(W, Math.ceil(b.x2));
    for (let y = Math.max(0, Math.floor(b.y1)); y < Math.min(H, Math.ceil(b.y2)); y++) {
      const keep = kept(y);
      if (keep) rowsKept++;
      for (let x = x0; x < x1; x++) {
        if (data[y * W + x] === 0) continue;
        total++;
        if (keep) inside++;
      }
    }
    if (total === 0 || inside >= minVisible * total) return b;
    if (rowsKept > 0) marked++; // a box with no row left is dropped, not counted
    return { ...b, ignore: true };
  });
  return marked;
}

/**
 * Applies the enabled augmentations in a fixed order (dropout, noise, overlay, stretch, jitter,
 * flips) and returns which fired. `other` supplies another image for the background overlay.
 */
export function augment(img: AugImage, o: AugmentOptions, rng: Rng, other?: () => AugImage | null): AugmentLog {
  const log: AugmentLog = {};
  const { channels: C, height: H, width: W } = img;
  let cut = 0; // boxes the time edges cut below minVisible

  // Dropout and noise come first, while the stored pixel list (`img.nonzero`) still describes
  // the image: no scan of all H·W pixels (that scan was most of a batch's loading time).
  const plane = H * W;
  const d = img.data;
  const nonzero = (): ArrayLike<number> => {
    if (img.nonzero) return img.nonzero;
    const list: number[] = [];
    for (let p = 0; p < plane; p++) if (d[p] !== 0) list.push(p);
    return list;
  };
  if (o.tpDropout > 0) {
    // Drop whole pixels (all channels) with probability p: TPs missed by the finder.
    const pix = nonzero();
    for (let i = 0; i < pix.length; i++) {
      const p = pix[i]!;
      if (rng() < o.tpDropout) for (let c = 0; c < C; c++) d[c * plane + p] = 0;
    }
    log.tpDropout = 1;
  }
  if (o.noiseTps > 0) {
    // Extra noise hits: each copies one of the image's own hit pixels (its ADC scale, and matching
    // peak/ToT values in the extra channels), added where the simulator adds TPs, maxed where it
    // takes their maximum. An image without hits gets value 1 in every channel.
    const pix = nonzero();
    const donors: number[] = [];
    for (let i = 0; i < pix.length && donors.length < 4096; i++) if (d[pix[i]!] !== 0) donors.push(pix[i]!);
    const byMax = Array.from({ length: C }, (_, c) => MAX_CHANNELS.has(img.channelNames?.[c] ?? ''));
    const n = poisson(rng, o.noiseTps);
    for (let i = 0; i < n; i++) {
      const p = Math.floor(rng() * plane);
      const donor = donors.length ? donors[Math.floor(rng() * donors.length)]! : -1;
      for (let c = 0; c < C; c++) {
        const v = donor >= 0 ? d[c * plane + donor]! : 1;
        const k = c * plane + p;
        d[k] = byMax[c] ? Math.max(d[k]!, v) : d[k]! + v;
      }
    }
    if (n) log.noiseTps = n;
  }
  if (o.overlayBackground > 0 && rng() < o.overlayBackground && other) {
    const bg = other();
    if (bg && bg.height === H && bg.width === W && bg.channels === C) {
      // Add the other image's pixels that lie outside all of its boxes: background only.
      const inBox = new Uint8Array(H * W);
      for (const b of bg.boxes) {
        for (let y = Math.floor(b.y1); y < Math.ceil(b.y2); y++) inBox.fill(1, y * W + Math.floor(b.x1), y * W + Math.ceil(b.x2));
      }
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < H * W; p++) if (!inBox[p] && bg.data[c * H * W + p]) img.data[c * H * W + p]! += bg.data[c * H * W + p]!;
      }
      log.overlayBackground = 1;
    }
  }
  if (o.timeStretch > 0) {
    const f = 1 + (2 * rng() - 1) * o.timeStretch;
    const map = (y: number) => (y - H / 2) * f + H / 2;
    const row = (y: number) => Math.floor(map(y + 0.5)); // the row a pixel row lands in
    cut += markCutBoxes(img, (y) => row(y) >= 0 && row(y) < H, o.minVisible ?? 0);
    remapRows(img, row);
    // Box edges follow their first and last pixel rows, so every pixel stays inside its box.
    img.boxes = img.boxes.map((b) => ({ ...b, y1: Math.max(0, row(b.y1)), y2: Math.min(H, row(Math.ceil(b.y2) - 1) + 1) })).filter((b) => b.y2 - b.y1 >= 1);
    log.timeStretch = 1;
  }
  if (o.timeJitter > 0) {
    const dy = Math.round((2 * rng() - 1) * o.timeJitter * H);
    if (dy !== 0) {
      cut += markCutBoxes(img, (y) => y + dy >= 0 && y + dy < H, o.minVisible ?? 0);
      shiftRows(img, dy);
      mapBoxesY(img, (y) => y + dy);
      log.timeJitter = 1;
    }
  }
  if (o.flipChannels > 0 && rng() < o.flipChannels) {
    const d = img.data;
    for (let r = 0; r < C * H; r++) d.subarray(r * W, (r + 1) * W).reverse();
    img.boxes = img.boxes.map((b) => ({ ...b, x1: W - b.x2, x2: W - b.x1 }));
    log.flipChannels = 1;
  }
  if (o.flipTime > 0 && rng() < o.flipTime) {
    flipRows(img);
    img.boxes = img.boxes.map((b) => ({ ...b, y1: H - b.y2, y2: H - b.y1 }));
    log.flipTime = 1;
  }
  if (cut) log.minVisible = cut;
  return log;
}

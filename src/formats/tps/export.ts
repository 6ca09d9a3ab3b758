// `daqyolo export tps`: a simulated dataset's TPs as a TpStream (then written in a DUNE format by
// writeTpStream), so DUNE's tools read daqyolo's simulation. Image i becomes window i of APA 0's
// drift face 0 (absolute time i × window ticks from origin 0), its wires collection channels of the
// FD-HD offline map, its interactions stream-wide ids (the dataset's interaction index) with their
// Eν and time; the TPs are the stored ones (simulate --store-tps) or, without them, the simulator's
// again (image i depends only on config, seed and i).
import { UserError } from '../../errors.js';
import { openDataset } from '../../data/store.js';
import { h5wasm, type H5Dataset } from '../../data/h5.js';
import { PATHS } from '../../data/layout.js';
import { parseSimConfig } from '../../sim/config.js';
import { Simulator } from '../../sim/event.js';
import { allocTpBatch, faceId, type TpBatch, type TpInteraction, type TpStream } from '../../sim/tp-stream.js';
import { FD_HD_OFFLINE } from './channel-map.js';

export interface DatasetTps {
  stream: TpStream;
  windowTicks: number;
  images: number;
}

/** The TPs of a simulated dataset as a stream, image after image. */
export function datasetTpStream(path: string): DatasetTps {
  const reader = openDataset(path);
  const attrs = reader.attrs as Record<string, unknown>;
  if (!attrs.config || typeof attrs.config !== 'object') {
    reader.close();
    throw new UserError(`${path}: not a simulated dataset (no simulator config): only simulated TPs can be exported`);
  }
  const config = parseSimConfig(attrs.config, `${path} attribute config`);
  const W = config.detector.windowTicks;
  if (config.detector.channels > 480) {
    reader.close();
    throw new UserError(`${path}: ${config.detector.channels} wires per face do not fit the FD-HD collection plane (480 per face)`);
  }
  const n = reader.numImages;
  const stored = reader.tps(0) !== null || n === 0;
  const sim = stored ? null : new Simulator(config, Number(attrs.seed ?? 0));
  // Interaction offsets and vertices, read once (small next to the images).
  const f = new h5wasm.File(path, 'r');
  const offDs = f.get(PATHS.interactionOffsets) as H5Dataset | null;
  const offsets = offDs ? Array.from(offDs.value as BigInt64Array, Number) : [];
  const vertex = (f.get(PATHS.interactionVertex) as H5Dataset | null)?.value as Float32Array | undefined;
  f.close();
  const face = faceId(0, 0);
  async function* batches(): AsyncGenerator<{ tps: TpBatch; interactions: TpInteraction[] }> {
    try {
      for (let i = 0; i < n; i++) {
        const t = stored ? reader.tps(i)! : sim!.image(i, { keepTps: true }).tps!;
        const m = 'n' in t ? (t as { n: number }).n : t.channel.length;
        const first = offsets[i] ?? 0;
        const interactions: TpInteraction[] = reader.interactions(i).map((it, k) => ({
          id: first + k,
          face,
          time: i * W + (vertex ? vertex[3 * (first + k) + 1]! : 0),
          energyMeV: it.energyMeV,
          electronMeV: NaN,
          origin: `${path} image ${i}`,
        }));
        const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => t.timeStart[a]! - t.timeStart[b]! || a - b);
        const b = allocTpBatch(m);
        order.forEach((k, r) => {
          b.face[r] = face;
          b.wire[r] = t.channel[k]!;
          b.channel[r] = FD_HD_OFFLINE.channelOf(0, 2, 0, t.channel[k]!)!;
          b.plane[r] = 2;
          b.timeStart[r] = i * W + t.timeStart[k]!;
          b.timePeak[r] = i * W + t.timePeak[k]!;
          b.timeOverThreshold[r] = t.timeOverThreshold[k]!;
          b.adcIntegral[r] = t.adcIntegral[k]!;
          b.adcPeak[r] = t.adcPeak[k]!;
          b.type[r] = 1;
          b.source[r] = -1;
          b.record[r] = i;
          b.owner[r] = t.owner[k]! >= 0 ? first + t.owner[k]! : t.owner[k]!;
        });
        b.n = m;
        yield { tps: b, interactions };
      }
    } finally {
      reader.close();
    }
  }
  return { stream: { header: { originDts: 0n, sources: [path], hasTruth: true }, batches: batches() }, windowTicks: W, images: n };
}

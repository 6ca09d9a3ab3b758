// Simulates a dataset and writes it: the simulation pool feeds the HDF5 writer chunk by chunk.
// Used by `daqyolo simulate` and by tests; the output appears at its name only when complete.
import { classNames, TP_SOURCES } from '../sim/event.js';
import type { SimConfig } from '../sim/config.js';
import { BACKGROUND_SOURCES } from '../sim/deposits.js';
import { imageLayout } from '../sim/image.js';
import { PROCESSES } from '../sim/interactions.js';
import { generateChunks } from '../sim/pool.js';
import { makeSplits } from './splits.js';
import { DatasetWriter } from './writer.js';

export interface GenerateDatasetOptions {
  out: string;
  config: SimConfig;
  images: number;
  seed: number;
  split?: [number, number, number];
  force?: boolean;
  workers?: number;
  layout?: 'sparse' | 'dense';
  chunkSize?: number;
  /** Called after every chunk with the number of images written so far. */
  onProgress?: (done: number, total: number) => void;
  /** Remove the partial file and exit on SIGINT / SIGTERM (the CLI sets this). */
  handleSignals?: boolean;
}

export interface GenerateSummary {
  path: string;
  images: number;
  seconds: number;
  splits: Record<string, number>;
}

/** The attributes of a simulated dataset: what `show`, `detect`, `evaluate` and `fprate` read back
 *  (the simulator configuration and seed, the binning, the class and channel names). */
export function simulatedAttrs(
  config: SimConfig,
  seed: number,
  fractions: readonly number[],
  generator = 'daqyolo simulate',
): Record<string, string | number | string[]> {
  const layout = imageLayout(config);
  return {
    generator,
    config: JSON.stringify(config),
    seed,
    class_names: classNames(config),
    process_names: [...PROCESSES],
    channel_names: layout.channelNames,
    split_fractions: fractions.join(','),
    ticks_per_pixel: layout.ticksPerPixel,
    wires_per_pixel: layout.wiresPerPixel,
    window_ticks: config.detector.windowTicks,
    detector_channels: config.detector.channels,
    image_convention: 'tensor [C, H, W]; x/width = detector channel (wire), y/height = time bin; boxes [x1, y1, x2, y2] in pixels, x2/y2 exclusive',
  };
}

export async function generateDataset(o: GenerateDatasetOptions): Promise<GenerateSummary> {
  const t0 = performance.now();
  const layout = imageLayout(o.config);
  const fractions = o.split ?? [0.8, 0.1, 0.1];
  const writer = new DatasetWriter({
    path: o.out,
    force: o.force ?? false,
    layout: o.layout ?? 'sparse',
    channels: layout.channels,
    height: layout.height,
    width: layout.width,
    storeTps: o.config.storeTps,
    attrs: simulatedAttrs(o.config, o.seed, fractions),
  });
  const onSignal = (sig: NodeJS.Signals) => {
    writer.abort();
    process.stderr.write(`\ndaqyolo: interrupted by ${sig}; no output written\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  if (o.handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    for await (const chunk of generateChunks({
      config: o.config,
      seed: o.seed,
      count: o.images,
      workers: o.workers ?? 0,
      chunkSize: o.chunkSize,
      keepTps: o.config.storeTps,
    })) {
      writer.appendChunk(chunk);
      o.onProgress?.(writer.imagesWritten, o.images);
    }
    const splits = makeSplits(o.images, fractions, o.seed);
    writer.finish(splits, { decays: BACKGROUND_SOURCES, tps: TP_SOURCES });
    return {
      path: o.out,
      images: o.images,
      seconds: (performance.now() - t0) / 1000,
      splits: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.length])),
    };
  } catch (e) {
    writer.abort();
    throw e;
  } finally {
    if (o.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

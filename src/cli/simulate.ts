// `daqyolo simulate`: writes a dataset of simulated SNNu TP images (see README "simulate"), or with
// --stream a continuous TP stream per APA face in a DUNE TP format (sim/stream-sim.ts).
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { mergeConfig, noBackgroundPatch, parseSimConfig, simConfigWarnings } from '../sim/config.js';
import { generateDataset } from '../data/generate.js';
import { parseSplitFractions } from '../data/splits.js';
import { readJsonConfig } from './args.js';
import { count, integer, number, oneOf, MAX } from './options.js';
import { withProgress } from './progress.js';
import { simulateTpStream } from '../sim/stream-sim.js';
import { TP_FORMATS, writeTpStream } from '../formats/tps/index.js';
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate SNNu trigger-primitive images with truth boxes and write an HDF5 dataset')
    .requiredOption('--out <file>', 'output HDF5 file')
    .option('--images <n>', 'number of images', count(MAX.datasetImages), 1000)
    .option('--seed <n>', 'random seed (image i depends only on seed and i)', integer({ max: MAX.seed }), 1)
    .option('--size <px>', 'square image side in pixels', integer({ min: 8, max: MAX.imageSize }))
    .option('--time-downsample <ticks>', 'ticks per pixel row (overrides the square height)', number({ min: 0, max: 1e6, exclusiveMin: true }))
    .option('--split <fractions>', 'train,val,eval fractions', '0.8,0.1,0.1')
    .option('--config <file>', 'JSON simulator config (any subset; see README "Simulator config")')
    .option('--signal-per-image <n>', 'signal interactions per image (mean, or count with --signal-mode fixed)', number({ min: 0, max: 10_000 }))
    .addOption(new Option('--signal-mode <mode>', 'fixed count or Poisson mean').choices(['fixed', 'poisson']))
    .addOption(new Option('--spectrum <kind>', 'neutrino energy spectrum').choices(['flat', 'fermi-dirac']))
    .option('--elastic', 'include ν–e elastic scattering')
    .option('--multi-class', 'one class per process (nueCC, nueES) instead of snnu')
    .option('--extra-channels <list>', 'extra pixel channels: peak_adc,tot')
    .option('--noise <adc>', 'noise RMS per sample, ADC', number({ min: 0, max: 1e6 }))
    .option('--threshold <adc>', 'TP threshold, ADC', number({ min: 0, max: 1e6 }))
    .option('--no-neutron-capture', "switch off neutron captures (on by default at DUNE's radiological-model rate)")
    .option('--external-gamma', 'add external γ (1.46, 2.6 MeV) from the cavern wall entering through the anode side (a face at the cryostat wall)')
    .option('--no-background', 'switch every radiological background off')
    .option('--store-tps', 'also store the raw trigger primitives')
    .addOption(new Option('--layout <kind>', 'image storage').choices(['sparse', 'dense']).default('sparse'))
    .option('--workers <n>', 'worker threads (0 = this thread)', integer({ max: MAX.processes }), availableParallelism())
    .option('--force', 'overwrite an existing output file')
    .option(
      '--stream <seconds>',
      'instead of images: a continuous TP stream of this length per face (backgrounds at their rates, signal Poisson in time across window edges, truth kept), written in --format (docs/trigger.md)',
      number({ min: 0, max: 1e6, exclusiveMin: true }),
    )
    .option('--faces <n>', 'with --stream: APA faces (face ids 0 … n − 1, FD-HD offline channels)', count(100_000), 2)
    .option('--sn-rate <hz>', 'with --stream: signal interactions per face per second', number({ min: 0, max: 1e9 }), 50)
    .option('--format <kind>', 'with --stream: text8, text11, tpstreamer or hdf5 (docs/tps.md)', oneOf(TP_FORMATS), 'text8')
    .action(async (o) => {
      const base = readJsonConfig(o.config);
      const patch: Record<string, Record<string, unknown>> = { image: {}, signal: {}, electronics: {}, tp: {}, background: {} };
      if (o.size !== undefined) patch.image.size = o.size;
      if (o.timeDownsample !== undefined) patch.image.timeDownsample = o.timeDownsample;
      if (o.extraChannels)
        patch.image.extraChannels = String(o.extraChannels)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      if (o.signalPerImage !== undefined) patch.signal.perImage = o.signalPerImage;
      if (o.signalMode) patch.signal.mode = o.signalMode;
      if (o.spectrum) patch.signal.spectrum = o.spectrum;
      if (o.elastic) patch.signal.elasticScattering = true;
      if (o.multiClass) patch.signal.multiClass = true;
      if (o.noise !== undefined) patch.electronics.noiseRmsAdc = o.noise;
      if (o.threshold !== undefined) patch.tp.thresholdAdc = o.threshold;
      if (o.neutronCapture === false) patch.background.neutronCapture = { enabled: false };
      if (o.externalGamma) patch.background.externalGamma = { enabled: true };
      if (o.background === false) Object.assign(patch.background, noBackgroundPatch());
      const merged = mergeConfig(base, { ...patch, ...(o.storeTps ? { storeTps: true } : {}) });
      const config = parseSimConfig(merged, o.config ?? 'config');
      for (const w of simConfigWarnings(config)) console.error(`daqyolo simulate: warning: ${w}`);
      if (o.stream !== undefined) {
        if (existsSync(o.out) && !o.force) throw new UserError(`${o.out} exists (--force to overwrite)`);
        const t0 = performance.now();
        const stream = simulateTpStream(config, { seconds: o.stream, faces: o.faces, snRateHz: o.snRate, seed: o.seed });
        const r = await writeTpStream(stream, o.format, o.out);
        console.log(
          `wrote ${o.out} (${o.format}): ${o.faces} faces × ${o.stream} s, ${r.tps} TPs, ${r.interactions} signal interactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        return;
      }
      const split = parseSplitFractions(o.split);
      const summary = await withProgress(
        'simulate',
        o.images,
        (bar) =>
          generateDataset({
            out: o.out,
            config,
            images: o.images,
            seed: o.seed,
            split,
            force: !!o.force,
            workers: o.workers,
            layout: o.layout,
            handleSignals: true,
            onProgress: (done) => bar.update(done),
          }),
        { unit: 'images' },
      );
      console.log(
        `wrote ${summary.path}: ${summary.images} images (train ${summary.splits.train}, val ${summary.splits.val}, eval ${summary.splits.eval}) in ${summary.seconds.toFixed(1)} s`,
      );
    });
}

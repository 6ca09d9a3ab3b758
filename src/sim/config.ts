// The one typed configuration object of the simulator. Every physics number of
// /work/shared/PHYSICS.md (the project's physics defaults) is a default here, with its source,
// so a physicist can change it from a JSON file (`--config`) without reading the code.
// Validated once at the edge with zod; error messages name the offending field.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { deepMerge } from '../util/merge.js';

const pos = () => z.number().positive();
const nonneg = () => z.number().nonnegative();

/** A radiological source: switch and scale (multiplies the activity). */
const source = (activityBqPerKg: number, enabled = true) =>
  z
    .object({
      enabled: z.boolean().default(enabled),
      /** Activity in Bq per kg of LAr (PHYSICS.md "Backgrounds"). */
      activityBqPerKg: nonneg().default(activityBqPerKg),
      /** Multiplies the activity (e.g. 0 to switch off, 10 for a stress test). */
      scale: nonneg().default(1),
    })
    .strict()
    .default({ enabled, activityBqPerKg, scale: 1 });

export const detectorSchema = z
  .object({
    /** Collection wires per APA face (PHYSICS.md: 480). */
    channels: z.number().int().min(1).max(4096).default(480),
    /** Collection-wire pitch, cm (PHYSICS.md: 4.79 mm). */
    wirePitchCm: pos().default(0.479),
    /** Length of the wires (the coordinate the collection view does not see), cm (PHYSICS.md: face ≈ 6 m). */
    wireLengthCm: pos().default(600),
    /** Drift length, cm (PHYSICS.md: 3.5 m). */
    driftLengthCm: pos().default(350),
    /** Drift field, kV/cm (PHYSICS.md: 500 V/cm). */
    fieldKvPerCm: pos().default(0.5),
    /** Drift velocity, cm/µs (PHYSICS.md: 1.6 mm/µs). */
    driftVelocityCmPerUs: pos().default(0.16),
    /** Sampling period, µs (PHYSICS.md: 2 MHz). */
    tickUs: pos().default(0.5),
    /** Readout window, ticks (PHYSICS.md: ≈ 4492). */
    windowTicks: z.number().int().min(16).default(4492),
    /** Electron lifetime, µs (PHYSICS.md: 10 ms, range 3–35 ms). */
    electronLifetimeUs: pos().default(10000),
    /** LAr density, g/cm³ (PHYSICS.md: 1.396). */
    densityGPerCm3: pos().default(1.396),
    /** Mean energy per ionisation electron, eV (PHYSICS.md: W = 23.6 eV). */
    wValueEv: pos().default(23.6),
    /** dE/dx of a minimum-ionising particle, MeV/cm (PHYSICS.md: ≈ 2.1); with the wire pitch it sets the gain. */
    mipDedxMeVPerCm: pos().default(2.1),
    /** Modified Box recombination A (PHYSICS.md: 0.93). */
    boxA: pos().default(0.93),
    /** Modified Box recombination k, (kV/cm)(g/cm²)/MeV (PHYSICS.md: 0.212). */
    boxK: pos().default(0.212),
    /** Longitudinal diffusion, cm²/s (PHYSICS.md: 6.2). */
    diffusionLongCm2PerS: nonneg().default(6.2),
    /** Transverse diffusion, cm²/s (PHYSICS.md: 13.2). */
    diffusionTransCm2PerS: nonneg().default(13.2),
  })
  .strict();

export const electronicsSchema = z
  .object({
    /** Peaking time of the unipolar collection response, µs (PHYSICS.md: ≈ 2 µs). */
    peakingTimeUs: pos().default(2),
    /** Peak ADC of a MIP crossing one wire (PHYSICS.md: ≈ 30 ADC); sets the gain. */
    mipPeakAdc: pos().default(30),
    /** Incoherent noise RMS per sample, ADC (PHYSICS.md: ≈ 3, range 2.5–5). */
    noiseRmsAdc: nonneg().default(3),
    /** Sample-to-sample correlation of the noise (AR(1) coefficient): shaped noise is not white.
     *  0.6 is an assumption (a 2 µs shaper over 0.5 µs ticks), not a PHYSICS.md number. */
    noiseCorrelation: z.number().min(0).max(0.99).default(0.6),
    /** Optional coherent noise RMS, ADC, common to groups of channels (PHYSICS.md: optional). */
    coherentNoiseRmsAdc: nonneg().default(0),
    /** Channels per coherent-noise group (PHYSICS.md: 48). */
    coherentGroup: z.number().int().min(1).default(48),
  })
  .strict();

export const tpSchema = z
  .object({
    /** TP threshold on the pedestal-subtracted waveform, ADC (PHYSICS.md: ≈ 20). */
    thresholdAdc: pos().default(20),
    /** Emit TPs produced by noise alone (PHYSICS.md: they must appear). */
    noiseTps: z.boolean().default(true),
  })
  .strict();

export const imageSchema = z
  .object({
    /** Square image side in pixels (default 480 = the seed's input size). */
    size: z.number().int().min(8).max(4096).default(480),
    /** Optional time downsampling factor (ticks per pixel row); overrides the square height. */
    timeDownsample: pos().optional(),
    /** Extra pixel channels beyond the ADC integral (channel 0). */
    extraChannels: z.array(z.enum(['peak_adc', 'tot'])).default([]),
  })
  .strict();

export const signalSchema = z
  .object({
    /** How many signal interactions per image: a fixed count or a Poisson mean. */
    mode: z.enum(['fixed', 'poisson']).default('poisson'),
    /** The count or the mean (0 = background only). */
    perImage: nonneg().default(1),
    /** Neutrino spectrum: flat in Eν (efficiency curves) or pinched Fermi–Dirac (a burst). */
    spectrum: z.enum(['flat', 'fermi-dirac']).default('flat'),
    /** Flat range, MeV (PHYSICS.md: 1–70 MeV, the thesis's range). */
    flatMinMeV: pos().default(1),
    flatMaxMeV: pos().default(70),
    /** Pinched Fermi–Dirac mean energy, MeV (PHYSICS.md: ≈ 11, range 9–14). */
    meanEnergyMeV: pos().default(11),
    /** Pinching α (PHYSICS.md: ≈ 2.5). */
    pinching: nonneg().default(2.5),
    /** Weight the Fermi–Dirac spectrum by the νe-CC cross-section ∝ (Eν − Q)² (PHYSICS.md). */
    weightByCrossSection: z.boolean().default(true),
    /** νe-CC Q-value (⁴⁰Ar → ⁴⁰K mass difference), MeV (PHYSICS.md: threshold 1.5 MeV). */
    ccQMeV: pos().default(1.5),
    /** ⁴⁰K* levels reached by allowed transitions, MeV (PHYSICS.md; 4.38 is the isobaric analogue state). */
    ccLevelsMeV: z.array(pos()).min(1).default([2.29, 2.73, 3.11, 3.8, 4.38]),
    /** Transition strengths of those levels, B(GT)·(g_A)² or B(F) for the IAS (approximate values after
     *  Bhattacharya et al., PRC 58 (1998) 3677); the level is drawn ∝ strength × p_e E_e. */
    ccLevelStrengths: z.array(nonneg()).min(1).default([0.9, 1.5, 0.86, 1.56, 4.0]),
    /** Include ν–e elastic scattering (PHYSICS.md: option). */
    elasticScattering: z.boolean().default(false),
    /** Fraction of signal interactions that are ν–e ES when enabled (assumption ≈ 10 %). */
    elasticFraction: z.number().min(0).max(1).default(0.1),
    /** One class per process (nueCC, nueES) instead of the single class `snnu`. */
    multiClass: z.boolean().default(false),
  })
  .strict();

export const backgroundSchema = z
  .object({
    /** ³⁹Ar β, Q = 565 keV, 1.01 Bq/kg (PHYSICS.md). */
    ar39: source(1.01),
    /** ⁸⁵Kr β, Q = 687 keV, 0.115 Bq/kg (PHYSICS.md). */
    kr85: source(0.115),
    /** ⁴²Ar β, Q = 0.6 MeV, 1.4e-4 Bq/kg (PHYSICS.md). */
    ar42: source(1.4e-4),
    /** ⁴²K β, Q = 3.5 MeV, 1.4e-4 Bq/kg (PHYSICS.md; in secular equilibrium with ⁴²Ar). */
    k42: source(1.4e-4),
    /** ²²²Rn α 5.5 MeV, 1–2e-3 Bq/kg (PHYSICS.md; midpoint 1.5e-3). */
    rn222: source(1.5e-3),
    /** Fraction of an α's charge that survives quenching (PHYSICS.md: "few %"). */
    alphaChargeFraction: z.number().min(0).max(1).default(0.03),
    /** Neutron capture on ⁴⁰Ar, 6.1 MeV γ cascade (PHYSICS.md: option, ≈ 0.05 per image). */
    neutronCapture: z
      .object({ enabled: z.boolean().default(false), perImage: nonneg().default(0.05) })
      .strict()
      .default({ enabled: false, perImage: 0.05 }),
    /** External γ (1.46 MeV ⁴⁰K, 2.6 MeV ²⁰⁸Tl) entering through the faces (PHYSICS.md: option; rate assumed). */
    externalGamma: z
      .object({ enabled: z.boolean().default(false), perImage: nonneg().default(1) })
      .strict()
      .default({ enabled: false, perImage: 1 }),
  })
  .strict();

export const simConfigSchema = z
  .object({
    detector: detectorSchema.default(() => detectorSchema.parse({})),
    electronics: electronicsSchema.default(() => electronicsSchema.parse({})),
    tp: tpSchema.default(() => tpSchema.parse({})),
    image: imageSchema.default(() => imageSchema.parse({})),
    signal: signalSchema.default(() => signalSchema.parse({})),
    background: backgroundSchema.default(() => backgroundSchema.parse({})),
    /** Keep the raw TPs in the dataset (bigger files). */
    storeTps: z.boolean().default(false),
  })
  .strict();

export type SimConfig = z.infer<typeof simConfigSchema>;
/** What a user may write: any subset of the config. */
export type SimConfigInput = z.input<typeof simConfigSchema>;

/** Validates a (partial) config; throws a UserError naming the field, e.g. `signal.perImage`. */
export function parseSimConfig(input: unknown, origin = 'config'): SimConfig {
  const r = simConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.map(String).join('.') || '(root)';
    throw new UserError(`${origin}: field ${field}: ${issue.message}`);
  }
  const c = r.data;
  if (c.signal.flatMaxMeV <= c.signal.flatMinMeV) {
    throw new UserError(`${origin}: field signal.flatMaxMeV (${c.signal.flatMaxMeV}) must exceed signal.flatMinMeV (${c.signal.flatMinMeV})`);
  }
  if (c.signal.ccLevelsMeV.length !== c.signal.ccLevelStrengths.length) {
    throw new UserError(`${origin}: field signal.ccLevelStrengths has ${c.signal.ccLevelStrengths.length} entries but signal.ccLevelsMeV has ${c.signal.ccLevelsMeV.length}`);
  }
  if (c.signal.mode === 'fixed' && !Number.isInteger(c.signal.perImage)) {
    throw new UserError(`${origin}: field signal.perImage must be an integer when signal.mode is "fixed", got ${c.signal.perImage}`);
  }
  return c;
}

/** The defaults, fully resolved. */
export function defaultSimConfig(): SimConfig {
  return parseSimConfig({});
}

/** Deep-merges `patch` into `base` (objects merge, everything else replaces); used for CLI overrides. */
export const mergeConfig = deepMerge;

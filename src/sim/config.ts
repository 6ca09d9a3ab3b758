// The one typed configuration object of the simulator. Every physics number of
// /work/shared/PHYSICS.md (the project's physics defaults) is a default here, with its source,
// so a physicist can change it from a JSON file (`--config`) without reading the code.
// Validated once at the edge with zod; error messages name the offending field.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { deepMerge } from '../util/merge.js';
import { effectiveThreshold, upcrossProbability } from './threshold-crossing.js';

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
    /** Most-probable dE/dx of a minimum-ionising muon over one wire pitch, MeV/cm: the Landau MPV in
     *  ≈ 5 mm of LAr lies below the 2.1 MeV/cm mean (PDG "Passage of particles through matter", Δp/x
     *  for thin absorbers); ProtoDUNE-SP's cosmic muons peak at ≈ 1.7–1.8. Only the MIP check of
     *  `daqyolo physics` uses it. */
    mipDedxMeVPerCm: pos().default(1.8),
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
    /** ADC resolution: 12 bits (ProtoDUNE-SP-like, the default) or 14 bits (FD-HD): the same charge reads
     *  ≈ 4× more counts, so every ADC default below (gain, noise, pedestal, TP threshold) is 4× its 12-bit
     *  value unless set explicitly (PHYSICS.md "collection response"). */
    adcBits: z.union([z.literal(12), z.literal(14)]).default(12),
    /** Gain: peak ADC per 1000 collected electrons of a charge arriving at once (PHYSICS.md: 6.6–7.5 on the
     *  12-bit scale). 7.3 puts a MIP crossing one wire at mid drift (23 ke⁻ after recombination and
     *  lifetime, spread by diffusion) at ≈ 136 ADC peak, S/N ≈ 45. Default 7.3 × 2^(adcBits − 12). */
    adcPerKe: pos().optional(),
    /** Incoherent noise RMS per sample, ADC (PHYSICS.md: ≈ 3 ADC, ENC ≈ 450–550 e⁻). Default 3 × 2^(adcBits − 12). */
    noiseRmsAdc: nonneg().optional(),
    /** Pedestal (baseline) of a collection channel, ADC: the TP finder must find it (frugal median).
     *  ≈ 900 on ProtoDUNE-SP collection channels. Default 900 × 2^(adcBits − 12). */
    pedestalAdc: nonneg().optional(),
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
    /** TP threshold on the pedestal-subtracted (optionally filtered) waveform, ADC (PHYSICS.md: 20 on the
     *  12-bit scale, ≈ 3 ke⁻). Default 20 × 2^(adcBits − 12). */
    thresholdAdc: pos().optional(),
    /** Pedestal estimate: 'frugal' = DUNE's software TPG running median (±1 ADC after a net `frugalLimit`
     *  samples above or below it); 'ideal' = the true pedestal (a check of what tracking costs). */
    pedestal: z.enum(['frugal', 'ideal']).default('frugal'),
    /** Net samples above (below) the running median before it steps by ±1 ADC (PHYSICS.md: 10). */
    frugalLimit: z.number().int().min(1).max(1000).default(10),
    /** Apply DUNE's 7-tap FIR [2, 9, 23, 31, 23, 9, 2]/99 to the pedestal-subtracted waveform before the
     *  threshold (PHYSICS.md: optional in DUNE's software TPG). */
    fir: z.boolean().default(false),
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
    // Activities: DUNE's radiological model, dunesim dune_radiological_model_decay0_hd_common.fcl (v3.6)
    // gives Bq/cm³; Bq/kg = Bq/cm³ / 1.396e-3 kg/cm³.
    /** ³⁹Ar β, Q = 565 keV: 1.01 Bq/kg (dunesim 0.00141 Bq/cm³). */
    ar39: source(1.01),
    /** ⁸⁵Kr β, Q = 687 keV: 0.115 Bq/kg (dunesim 0.00016 Bq/cm³). */
    kr85: source(0.115),
    /** ⁴²Ar β, Q = 0.6 MeV: 9.2e-5 Bq/kg (dunesim 1.283768e-7 Bq/cm³). */
    ar42: source(9.196e-5),
    /** ⁴²K β, Q = 3.5 MeV: 20 % of the ⁴²Ar activity stays in the argon, 1.839e-5 Bq/kg (dunesim
     *  2.567536e-8 Bq/cm³ "as only 20% of the 42K stays in the Argon"; the rest drifts to the cathode). */
    k42: source(1.839e-5),
    /** ²²²Rn α 5.49 MeV: 1 mBq/kg (dunesim 1.395e-6 Bq/cm³). */
    rn222: source(0.9993e-3),
    /** ²¹⁸Po α 6.00 MeV: Rn rate less the 13.7 % of ions that reach the cathode (dunesim 1.203885e-6 Bq/cm³). */
    po218: source(8.624e-4),
    /** ²¹⁴Pb β, Q = 1.02 MeV (+ 0.35 MeV γ): less 40.7 % on the cathode (dunesim 8.27235e-7 Bq/cm³). */
    pb214: source(5.926e-4),
    /** ²¹⁴Bi β, Q = 3.27 MeV (+ 0.61 MeV γ): less 67.2 % on the cathode (dunesim 4.5756e-7 Bq/cm³). */
    bi214: source(3.278e-4),
    /** ²¹⁴Po α 7.69 MeV, 164 µs after each ²¹⁴Bi: the same activity as ²¹⁴Bi. */
    po214: source(3.278e-4),
    /** Fraction of an α's charge that survives quenching and recombination (PHYSICS.md: "few %"). */
    alphaChargeFraction: z.number().min(0).max(1).default(0.03),
    /** Neutron capture on ⁴⁰Ar (6.1 MeV γ cascade), on by default. DUNE's model injects cavern neutrons at
     *  the LAr boundary at 2.6996e-7 per cm³ per s in 1 cm planes (dunesim
     *  dune_radiological_model_decay0_hd_1x2x6.fcl, dune10kt_1x2x6_neutrons_from_cavernwall_atLAr), i.e.
     *  2.6996e-7 neutrons per cm² of boundary per s, emitted isotropically (half inward). Every neutron
     *  that enters is captured in the argon; spread over the module's faces this gives the captures per
     *  face per window. */
    neutronCapture: z
      .object({
        enabled: z.boolean().default(true),
        neutronsPerCm2PerS: nonneg().default(2.6996e-7),
        /** Fraction of the boundary emission that goes into the argon. */
        inwardFraction: z.number().min(0).max(1).default(0.5),
        /** LAr boundary of a 10 kt FD-HD module: active volume 58.2 m × 12 m × 14.5 m (TDR) → 3433 m². */
        moduleSurfaceM2: pos().default(3433),
        /** APA faces that share the captures (PHYSICS.md: 200). */
        facesPerModule: z.number().int().min(1).default(200),
        /** Multiplies the rate (e.g. 1000 for a stress test of the neutron signature). */
        scale: nonneg().default(1),
      })
      .strict()
      .default({ enabled: true, neutronsPerCm2PerS: 2.6996e-7, inwardFraction: 0.5, moduleSurfaceM2: 3433, facesPerModule: 200, scale: 1 }),
    /** External γ (1.46 MeV ⁴⁰K, 2.61 MeV ²⁰⁸Tl) from the cavern walls entering a face next to the cryostat
     *  wall through its anode side (an outer APA). Off by default (most faces do not touch a wall). DUNE's
     *  model: 1.05104 γ per cm² per s at the LAr boundary (dunesim dune_radiological_model_decay0_hd_1x2x6.fcl,
     *  dune10kt_1x2x6_gammas_from_cavernwall_atLAr, worst-case shotcrete), half inward. */
    externalGamma: z
      .object({
        enabled: z.boolean().default(false),
        gammasPerCm2PerS: nonneg().default(1.05104),
        inwardFraction: z.number().min(0).max(1).default(0.5),
        scale: nonneg().default(1),
      })
      .strict()
      .default({ enabled: false, gammasPerCm2PerS: 1.05104, inwardFraction: 0.5, scale: 1 }),
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

type ParsedConfig = z.infer<typeof simConfigSchema>;
/** The resolved config: every ADC default filled in for the chosen ADC resolution. */
export type SimConfig = Omit<ParsedConfig, 'electronics' | 'tp'> & {
  electronics: Omit<ParsedConfig['electronics'], 'adcPerKe' | 'noiseRmsAdc' | 'pedestalAdc'> & { adcPerKe: number; noiseRmsAdc: number; pedestalAdc: number };
  tp: Omit<ParsedConfig['tp'], 'thresholdAdc'> & { thresholdAdc: number };
};
/** What a user may write: any subset of the config. */
export type SimConfigInput = z.input<typeof simConfigSchema>;

/** A readout window may exceed the maximum drift time by this factor (DUNE's 2.246 ms window is 1.03 × the
 *  2.19 ms drift): charge from a longer window would come from outside the drift volume. */
const WINDOW_OVER_DRIFT = 1.1;

/** Noise TPs per image above which a config is refused (millions of TPs make no image). */
const MAX_NOISE_TPS_PER_IMAGE = 1e5;
/** Above this many noise TPs per image (the ³⁹Ar level) a warning states the rate. */
const WARN_NOISE_TPS_PER_IMAGE = 100;

/** Noise TPs per image of a threshold on the Gaussian noise alone (the pedestal estimate exact): a quick bound. */
export function gaussianNoiseTpsPerImage(c: SimConfig): number {
  const sigma = Math.hypot(c.electronics.noiseRmsAdc, c.electronics.coherentNoiseRmsAdc);
  if (!(sigma > 0)) return 0;
  return upcrossProbability(effectiveThreshold(c.tp.thresholdAdc) / sigma, c.electronics.noiseCorrelation) * c.detector.windowTicks * c.detector.channels;
}

/** Warnings about a valid but suspicious config (printed by the commands that simulate). */
export function simConfigWarnings(c: SimConfig): string[] {
  const out: string[] = [];
  const n = gaussianNoiseTpsPerImage(c);
  if (c.tp.noiseTps && n > WARN_NOISE_TPS_PER_IMAGE) {
    out.push(
      `tp.thresholdAdc ${c.tp.thresholdAdc} ADC is ${(c.tp.thresholdAdc / c.electronics.noiseRmsAdc).toFixed(1)} σ of the noise: ≈ ${n.toFixed(0)} noise TPs per image (${(n / (c.detector.windowTicks * c.detector.tickUs * 1e-6) / 1e3).toFixed(0)} kHz per face), more than ³⁹Ar makes`,
    );
  }
  return out;
}

/** Validates a (partial) config; throws a UserError naming the field, e.g. `signal.perImage`. */
export function parseSimConfig(input: unknown, origin = 'config'): SimConfig {
  const r = simConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.map(String).join('.') || '(root)';
    throw new UserError(`${origin}: field ${field}: ${issue.message}`);
  }
  const p = r.data;
  // 14-bit ADCs read ≈ 4× more counts for the same charge: the ADC defaults scale with them.
  const counts = 2 ** (p.electronics.adcBits - 12);
  const c: SimConfig = {
    ...p,
    electronics: {
      ...p.electronics,
      adcPerKe: p.electronics.adcPerKe ?? 7.3 * counts,
      noiseRmsAdc: p.electronics.noiseRmsAdc ?? 3 * counts,
      pedestalAdc: p.electronics.pedestalAdc ?? 900 * counts,
    },
    tp: { ...p.tp, thresholdAdc: p.tp.thresholdAdc ?? 20 * counts },
  };
  const maxDriftUs = c.detector.driftLengthCm / c.detector.driftVelocityCmPerUs;
  const windowUs = c.detector.windowTicks * c.detector.tickUs;
  if (windowUs > WINDOW_OVER_DRIFT * maxDriftUs) {
    throw new UserError(
      `${origin}: field detector.windowTicks (${c.detector.windowTicks} ticks = ${(windowUs / 1000).toFixed(3)} ms) is longer than the drift allows: at most ${WINDOW_OVER_DRIFT} × the maximum drift time ${(maxDriftUs / 1000).toFixed(3)} ms (${Math.floor((WINDOW_OVER_DRIFT * maxDriftUs) / c.detector.tickUs)} ticks)`,
    );
  }
  const maxAdc = 2 ** c.electronics.adcBits - 1;
  if (c.electronics.pedestalAdc + c.tp.thresholdAdc >= maxAdc) {
    throw new UserError(
      `${origin}: field electronics.pedestalAdc (${c.electronics.pedestalAdc}) plus tp.thresholdAdc (${c.tp.thresholdAdc}) must stay below the ${c.electronics.adcBits}-bit ADC range (${maxAdc})`,
    );
  }
  const noiseTps = gaussianNoiseTpsPerImage(c);
  if (c.tp.noiseTps && noiseTps > MAX_NOISE_TPS_PER_IMAGE) {
    throw new UserError(
      `${origin}: field tp.thresholdAdc (${c.tp.thresholdAdc} ADC) is too close to the noise (${c.electronics.noiseRmsAdc} ADC RMS): it implies ≈ ${noiseTps.toExponential(2)} noise TPs per image (limit ${MAX_NOISE_TPS_PER_IMAGE.toExponential(0)}); raise it or set tp.noiseTps false`,
    );
  }
  if (c.signal.flatMaxMeV <= c.signal.flatMinMeV) {
    throw new UserError(`${origin}: field signal.flatMaxMeV (${c.signal.flatMaxMeV}) must exceed signal.flatMinMeV (${c.signal.flatMinMeV})`);
  }
  if (c.signal.ccLevelsMeV.length !== c.signal.ccLevelStrengths.length) {
    throw new UserError(
      `${origin}: field signal.ccLevelStrengths has ${c.signal.ccLevelStrengths.length} entries but signal.ccLevelsMeV has ${c.signal.ccLevelsMeV.length}`,
    );
  }
  if (c.signal.mode === 'fixed' && !Number.isInteger(c.signal.perImage)) {
    throw new UserError(`${origin}: field signal.perImage must be an integer when signal.mode is "fixed", got ${c.signal.perImage}`);
  }
  return c;
}

/** The config patch that switches every background source off (radiologicals, neutron captures, external γ). */
export function noBackgroundPatch(): Record<string, { enabled: false }> {
  const out: Record<string, { enabled: false }> = {};
  for (const k of Object.keys(backgroundSchema.shape)) if (k !== 'alphaChargeFraction') out[k] = { enabled: false };
  return out;
}

/** The defaults, fully resolved. */
export function defaultSimConfig(): SimConfig {
  return parseSimConfig({});
}

/** Deep-merges `patch` into `base` (objects merge, everything else replaces); used for CLI overrides. */
export const mergeConfig = deepMerge;

// The typed option layer: every option value of every command is parsed here, so that a count
// has an integer type and a sane bound, a score lies in [0, 1], a name is one of its choices and
// a device exists, and a bad value is one line (`daqyolo: --images: expected …, got "1e12"`),
// never a stack, a quiet clamp or a 4 GB heap (issue 30).
//
// How to declare an option
// ------------------------
//   import { integer, count, number, probability, oneOf, device, text, shard, custom, MAX } from './options.js';
//   cmd
//     .option('--images <n>', 'images', count(MAX.datasetImages), 1000)   // integer 1 … bound
//     .option('--seed <n>', 'seed', integer({ min: 0, max: MAX.seed }))   // integer min … max
//     .option('--size <px>', 'size', integer({ min: 32, max: MAX.imageSize, multipleOf: 32 }))
//     .option('--lr <x>', 'rate', number({ min: 0, max: 1, exclusiveMin: true }))
//     .option('--score <x>', 'minimum score', probability(), 0.3)        // a number in [0, 1]
//     .option('--split <name>', 'split', oneOf(['train', 'val', 'eval']), 'eval')
//     .option('--device <name>', 'device', device(), 'auto')            // checked once, here
//     .option('--checkpoint <name>', 'best, last or a path', text())     // any non-empty string
//     .option('--shard <i/n>', 'shard', shard(100_000))                  // i/n, 0 ≤ i < n
//     .option('--x <v>', 'own syntax', custom('what it is', (v) => …))  // throw OptionValueError
// - Give the parser only the constraint, not the flag: `registerCommands` (registry.ts) calls
//   `nameOptionErrors(program)`, which prefixes every error with the option's flag.
// - Every option that takes a value needs a parser from this file, unless its placeholder says it
//   is a path or free text (TEXT_PLACEHOLDERS: <file>, <dir>, <png>, …). test/faults/options.test.ts
//   walks every registered command and fails on any other option without one (`untypedOptions`),
//   so a new `--foo <n>` cannot go unchecked. Commander's `new Option(…).choices([…])` also counts.
// - Every integer and number needs an upper bound: the limits shared by several commands are in
//   `MAX` below (pick one, or add one with the reason).
// - Default values are not parsed by commander: keep them inside the bounds.
// - args.ts's old intArg/numArg have no upper bound: the option walk counts them as untyped.
// - A check that needs several options at once (--a only with --b) goes in a preAction hook (as
//   study's `checkPlanOptions`, cli/study-plan.ts: parse-only callers see it too) or the action.
import type { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { checkDevice } from '../torch/index.js';

/** Upper bounds shared by several commands, each with why it is where it is. */
export const MAX = {
  /** Images of a stored dataset: 10⁷ images at ~120 active pixels are ~15 GB of HDF5. */
  datasetImages: 10_000_000,
  /** Streamed (never stored) background images: 10⁹ reach ≈ 1 mHz per 10 kt module. */
  streamImages: 1_000_000_000,
  /** Processes or threads at once on one machine (fprate shards, DDP ranks, workers, runs). */
  processes: 1024,
  /** Side of an image or of the network input, px. */
  imageSize: 8192,
  /** Images per batch. */
  batch: 65_536,
  /** Epochs of a training run. */
  epochs: 100_000,
  /** Seeds are 32-bit. */
  seed: 2 ** 32 - 1,
  /** Channel-width multiplier of a network. */
  width: 16,
  /** TPs of one interaction (a 70 MeV shower leaves hundreds). */
  interactionTps: 100_000,
} as const;

/** A parser made here (the option walk recognises it by this tag). */
export type TypedParser<T> = ((value: string, previous?: T) => T) & { readonly typed: string };

/** A bad value: `nameOptionErrors` turns it into a UserError naming the flag. */
export class OptionValueError extends UserError {}

function typed<T>(kind: string, parse: (value: string, previous?: T) => T): TypedParser<T> {
  return Object.assign(parse, { typed: kind });
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const fmt = (n: number) => (Math.abs(n) >= 1e5 && Number.isInteger(Math.log10(Math.abs(n))) ? `10^${Math.log10(Math.abs(n))}` : String(n));

function parseNumber(v: string): number {
  const n = NUMBER.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : NaN;
}

/** An integer in [min, max] (min defaults to 0), optionally a multiple of `multipleOf`. */
export function integer(o: { min?: number; max: number; multipleOf?: number }): TypedParser<number> {
  const min = o.min ?? 0;
  const what = `an integer from ${fmt(min)} to ${fmt(o.max)}${o.multipleOf ? ` (a multiple of ${o.multipleOf})` : ''}`;
  return typed(`integer ${min}..${o.max}`, (v) => {
    const n = parseNumber(v);
    if (!Number.isInteger(n) || n < min || n > o.max || (o.multipleOf && n % o.multipleOf !== 0)) throw new OptionValueError(`expected ${what}, got "${v}"`);
    return n;
  });
}

/** A count: an integer from 1 to max. */
export const count = (max: number): TypedParser<number> => integer({ min: 1, max });

/** A finite number in [min, max] (or (min, max] with exclusiveMin). */
export function number(o: { min: number; max: number; exclusiveMin?: boolean }): TypedParser<number> {
  const what = `a number ${o.exclusiveMin ? '>' : '≥'} ${o.min} and ≤ ${fmt(o.max)}`;
  return typed(`number ${o.min}..${o.max}`, (v) => {
    const n = parseNumber(v);
    if (Number.isNaN(n) || n < o.min || (o.exclusiveMin && n === o.min) || n > o.max) throw new OptionValueError(`expected ${what}, got "${v}"`);
    return n;
  });
}

/** A probability or a score: a number in [0, 1]. */
export const probability = (): TypedParser<number> => number({ min: 0, max: 1 });

/** One of the given names. */
export function oneOf<T extends string>(choices: readonly T[]): TypedParser<T> {
  return typed(`one of ${choices.join(', ')}`, (v) => {
    if (!(choices as readonly string[]).includes(v)) throw new OptionValueError(`expected one of ${choices.join(', ')}, got "${v}"`);
    return v as T;
  });
}

/** A device: auto, cpu, cuda, cuda:N, and one this libtorch has (the one check: torch's checkDevice). */
export const device = (): TypedParser<string> =>
  typed('device', (v) => {
    try {
      return checkDevice(v);
    } catch (e) {
      throw new OptionValueError((e as Error).message);
    }
  });

/** Shard i of n, written i/n with 0 ≤ i < n ≤ max (e.g. 3/16). */
export const shard = (max: number): TypedParser<{ index: number; count: number }> =>
  typed('shard', (v) => {
    const m = /^(\d+)\/(\d+)$/.exec(v);
    if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > max)
      throw new OptionValueError(`expected i/n with 0 ≤ i < n ≤ ${fmt(max)} (e.g. 3/16), got "${v}"`);
    return { index: Number(m[1]), count: Number(m[2]) };
  });

/** A parser of a value only one command reads: give the kind it checks (the option walk then counts it as typed). */
export const custom = <T>(kind: string, parse: (value: string) => T): TypedParser<T> => typed(kind, parse);

/** "0.1,10,100" → FP rates in Hz per module, each > 0 (compare, hybrid). */
export const ratesList = custom('comma-separated FP rates in Hz per module, each > 0', (v) => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x <= 0 || x > 1e9))
    throw new OptionValueError(`expected comma-separated rates in Hz per module (each > 0 and ≤ 10^9), got "${v}"`);
  return xs;
});

/** "4:40,8:80" → other clusterings as channel gap : Δt ticks pairs (fprate --baseline --cluster-variants). */
export const clusterVariantsList = custom('comma-separated gap:Δt pairs (channels : ticks), e.g. 4:40,8:80', (v) => {
  return v.split(',').map((item) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(item);
    const gap = m ? Number(m[1]) : NaN;
    const dt = m ? Number(m[2]) : NaN;
    if (!m || gap < 1 || gap > 10_000 || dt > 1_000_000)
      throw new OptionValueError(`expected comma-separated gap:Δt pairs (channel gap 1–10 000 : ticks 0–10^6), got "${item.trim()}" in "${v}"`);
    return { channelTolerance: gap, maxDtTicks: dt };
  });
});

/** Any non-empty string (a name checked later, e.g. best/last or a checkpoint path). */
export const text = (): TypedParser<string> =>
  typed('text', (v) => {
    if (v === '') throw new OptionValueError('expected a value, got ""');
    return v;
  });

/** Placeholders of options whose values are paths or free text: these may stay plain strings. */
export const TEXT_PLACEHOLDERS: ReadonlySet<string> = new Set([
  'file',
  'files',
  'dir',
  'png',
  'dataset',
  'script',
  'url',
  'text',
  'names',
  'list',
  'fractions',
  'key=value',
  'hh:mm:ss',
]);

/** Commander's option objects of `cmd` and of every subcommand under it, with their command path. */
function* allOptions(cmd: Command, path = ''): Generator<{ command: string; option: Option }> {
  const here = path ? `${path} ${cmd.name()}` : cmd.name();
  for (const option of cmd.options) yield { command: here, option };
  for (const sub of cmd.commands) yield* allOptions(sub, here);
}

const placeholder = (o: Option) =>
  /<([^>]+?)(\.\.\.)?>|\[([^\]]+?)(\.\.\.)?\]/
    .exec(o.flags)
    ?.slice(1)
    .find((x) => x && x !== '...') ?? '';
const isTyped = (o: Option) => typeof (o.parseArg as Partial<TypedParser<unknown>> | undefined)?.typed === 'string' || Array.isArray(o.argChoices);

/** Options that take a value but have no parser from this layer (and no path/text placeholder). */
export function untypedOptions(program: Command): string[] {
  const out: string[] = [];
  for (const { command, option } of allOptions(program)) {
    if (!(option.required || option.optional)) continue; // a flag without a value
    if (isTyped(option) || TEXT_PLACEHOLDERS.has(placeholder(option))) continue;
    out.push(`${command} ${option.flags}`);
  }
  return out;
}

/** Prefixes every typed parser's error with its flag: `--images: expected …`. Called once by registerCommands. */
export function nameOptionErrors(program: Command): void {
  for (const { option } of allOptions(program)) {
    const parse = option.parseArg as TypedParser<unknown> | undefined;
    if (typeof parse?.typed !== 'string') continue;
    option.parseArg = Object.assign(
      (v: string, prev: unknown) => {
        try {
          return parse(v, prev);
        } catch (e) {
          if (e instanceof OptionValueError) throw new UserError(`${option.long ?? option.flags}: ${e.message}`);
          throw e;
        }
      },
      { typed: parse.typed },
    ) as Option['parseArg'];
  }
}

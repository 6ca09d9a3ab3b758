// The typed option layer (src/cli/options.ts, issue 30): every option that takes a value of every
// registered command has a typed parser, and the values of the fault campaign (unbounded counts,
// fractions of processes, scores above 1, unknown names and devices) are refused while parsing —
// before any action runs, so no run directory or partial file is made — with one line naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCommands } from '../../src/cli/registry.js';
import { untypedOptions } from '../../src/cli/options.js';
import { cudaAvailable } from '../../src/torch/index.js';
import { run, errorLines } from './fixture.js';

/** The daqyolo program with every action replaced by a marker: parsing only, nothing runs. */
function parseOnly(): { program: Command; ran: () => string | null } {
  const program = new Command().name('daqyolo').exitOverride();
  registerCommands(program);
  let ran: string | null = null;
  const walk = (c: Command, path: string): void => {
    for (const sub of c.commands) {
      sub.exitOverride();
      sub.configureOutput({ writeErr: () => {}, writeOut: () => {} });
      sub.action(() => {
        ran = `${path}${sub.name()}`;
      });
      walk(sub, `${path}${sub.name()} `);
    }
  };
  walk(program, '');
  return { program, ran: () => ran };
}

test('every option that takes a value, of every command, has a typed parser (or a path/text placeholder)', () => {
  const program = new Command();
  registerCommands(program);
  assert.deepEqual(untypedOptions(program), []);
});

const REFUSED: [string[], RegExp][] = [
  [['simulate', '--out', 'x.h5', '--images', '1e12'], /^--images: expected an integer from 1 to 10\^7, got "1e12"$/],
  [['fprate', 'r', '--images', '1e20', '--parallel', '1'], /^--images: expected an integer/],
  [['fprate', 'r', '--images', '640', '--parallel', '1e99'], /^--parallel: expected an integer/],
  [['fprate', 'r', '--images', '1e99', '--parallel', '2'], /^--images: expected an integer/],
  [['evaluate', 'r', '--data', 'd.h5', '--background', '1e99'], /^--background: expected an integer/],
  [['train', '--data', 'd.h5', '--out', 'o', '--nproc', '1.5'], /^--nproc: expected an integer from 1/],
  [['train', '--data', 'd.h5', '--out', 'o', '--nproc', '1e99'], /^--nproc: expected an integer from 1/],
  [['train', '--data', 'd.h5', '--out', 'o', '--nproc', '0'], /^--nproc: expected an integer from 1/],
  [['train', '--data', 'd.h5', '--out', 'o', '--nproc', '-1'], /^--nproc: expected an integer from 1/],
  [['train', '--data', 'd.h5', '--out', 'o', '--lr', '1e99'], /^--lr: expected a number > 0 and ≤ 10, got "1e99"$/],
  [['train', '--data', 'd.h5', '--out', 'o', '--epochs', ''], /^--epochs: expected an integer/],
  [['study', '--dry-run', '--plan', 'seed', '--images', '1e99'], /^--images: expected an integer/],
  [['study', '--dry-run', '--plan', 'seed', '--width', '-1'], /^--width: expected a number > 0/],
  [
    ['study', '--plan', 'seed', '--quick', '--variant', 'foo'],
    /^--variant: expected one of yolov3, yolov3-tiny, sparse-yolov3, sparse-yolov3-tiny, got "foo"$/,
  ],
  [['study', '--plan', 'seeds'], /^--plan: expected one of seed/],
  // A plan's own option without --plan (silently ignored before issue 28), and a default-study option the plan does not read.
  [['study', '--low-stats', '16'], /^--low-stats: only with --plan seed$/],
  [['study', '--out', 'o', '--dry-run'], /^--dry-run: only with --plan seed or budget$/],
  [['study', '--budget-points', '500'], /^--budget-points: only with --plan budget$/],
  [['study', '--no-endpoint'], /^--no-endpoint: only with --plan seed$/],
  [['study', '--parallel', '2'], /^--parallel: only with --plan seed$/],
  [['study', '--plan', 'seed', '--quick', '--workers', '3'], /^--workers: not read by --plan seed \(only by the default study\)$/],
  [['study', '--plan', 'seed', '--baseline-background', '10'], /^--baseline-background: not read by --plan seed/],
  // Between plans: the other plan's own option, and a default-study option the seed plan reads but the budget plan does not (with the reason).
  [['study', '--plan', 'seed', '--budget-task', '0'], /^--budget-task: not read by --plan seed \(only with --plan budget\)$/],
  [['study', '--plan', 'budget', '--low-stats', '16'], /^--low-stats: not read by --plan budget \(only with --plan seed\); the points are --budget-points$/],
  [['study', '--plan', 'budget', '--images', '40'], /^--images: not read by --plan budget \(only by the default study and --plan seed\); the dataset is/],
  [['study', '--plan', 'budget', '--workers', '3'], /^--workers: not read by --plan budget \(only by the default study\)$/],
  [['study', '--plan', 'budget', '--budget-points', '500,x'], /^--budget-points: expected comma-separated training-image counts/],
  [['detect', 'r', 'd.h5', '--out', 'o', '--score', '2'], /^--score: expected a number ≥ 0 and ≤ 1, got "2"$/],
  [['evaluate', 'r', '--data', 'd.h5', '--match', 'centr'], /^--match: expected one of tps, iou, centre/],
  [['report', 'r', '--events', '-1'], /^--events: expected an integer/],
  [['show', 'd.h5', '--index', '0x10', '--out', 'a.png'], /^--index: expected an integer/],
  [['train', '--data', 'd.h5', '--out', 'o', '--device', 'foo'], /^--device: device 'foo': expected auto, cpu, cuda or cuda:N$/],
  [['evaluate', 'r', '--data', 'd.h5', '--device', 'foo'], /^--device: device 'foo'/],
  [['detect', 'r', 'd.h5', '--out', 'o', '--device', 'foo'], /^--device: device 'foo'/],
  [['fprate', 'r', '--device', 'foo'], /^--device: device 'foo'/],
  [['study', '--device', 'cuda:x'], /^--device: device 'cuda:x'/],
];

test('unbounded, fractional, out-of-range and unknown values are refused while parsing, naming the flag', async () => {
  for (const [args, want] of REFUSED) {
    const { program, ran } = parseOnly();
    const err = await program.parseAsync(['node', 'daqyolo', ...args]).then(
      () => null,
      (e: Error) => e,
    );
    assert.equal(ran(), null, `${args.join(' ')}: accepted, the action ran`);
    assert.ok(err && (err as { userFacing?: boolean }).userFacing, `${args.join(' ')}: not a one-line user error: ${err?.stack}`);
    assert.match(err.message, want, args.join(' '));
  }
});

test('in-range values still parse (the bounds are not too tight)', async () => {
  for (const args of [
    ['simulate', '--out', 'x.h5', '--images', '1e6', '--size', '480'],
    ['fprate', 'r', '--images', '1e9', '--parallel', '2', '--device', 'cpu'],
    ['train', '--data', 'd', '--out', 'o', '--nproc', '2', '--lr', '1e-4', '--size', '480'],
    ['detect', 'r', 'd', '--out', 'o', '--score', '1'],
    ['study', '--out', 'o', '--images', '20', '--size', '32', '--baseline-background', '10', '--workers', '1', '--seed', '2'],
    // Every option the seed plan reads (the docs and the tests use them all).
    [
      'study',
      ...'--plan seed --quick --out o --images 40 --epochs 2 --size 32 --variant yolov3-tiny --width 0.0625 --background 8 --seed 2'.split(' '),
      ...'--device cpu --parallel 2 --hours 1.5 --fp-images 64 --warmup-epochs 0 --endpoint-epochs 3 --endpoint-patience 1 --low-stats 16'.split(' '),
      ...['--slurm', '--dry-run', '--no-endpoint', '--reevaluate'],
    ],
    // Every option the budget plan reads.
    [
      'study',
      ...'--plan budget --out o --size 64 --variant sparse-yolov3-tiny --width 0.0625 --seed 2 --device cpu --fp-images 64'.split(' '),
      ...'--warmup-epochs 0 --endpoint-epochs 3 --endpoint-patience 1 --budget-points 20,40 --budget-rates 1.8,10'.split(' '),
      ...'--budget-val-images 10 --budget-eval-images 10 --budget-task 1 --slurm --dry-run'.split(' '),
    ],
  ]) {
    const { program, ran } = parseOnly();
    await program.parseAsync(['node', 'daqyolo', ...args]);
    assert.equal(ran(), args[0], args.join(' '));
  }
});

test("study's help: the default study's options under Options, each plan's own under its own heading", () => {
  const program = new Command();
  registerCommands(program);
  const study = program.commands.find((c) => c.name() === 'study')!;
  const groups = new Map<string, string[]>();
  for (const o of study.options) groups.set(o.helpGroupHeading ?? 'Options:', [...(groups.get(o.helpGroupHeading ?? 'Options:') ?? []), o.long!]);
  assert.deepEqual([...groups.keys()], ['Options:', 'Options of --plan seed:', 'Options of --plan seed or budget:', 'Options of --plan budget:']);
  assert.ok(
    groups.get('Options of --plan seed or budget:')!.includes('--endpoint-epochs') && groups.get('Options of --plan budget:')!.includes('--budget-points'),
  );
  assert.ok(groups.get('Options:')!.includes('--plan') && groups.get('Options:')!.includes('--baseline-background'));
  assert.ok(groups.get('Options of --plan seed:')!.includes('--low-stats') && !groups.get('Options of --plan seed:')!.includes('--images'));
  const help = study.helpInformation();
  assert.ok(help.indexOf('Options of --plan seed:') > help.indexOf('--device <name>'), help);
  assert.ok(help.indexOf('--low-stats') > help.indexOf('Options of --plan seed:'), help);
});

test(
  '--device cuda on a libtorch without CUDA: one line for train, evaluate, detect and fprate',
  { skip: cudaAvailable() && 'this libtorch has CUDA' },
  async () => {
    for (const args of [
      ['train', '--data', 'd', '--out', 'o'],
      ['evaluate', 'r', '--data', 'd'],
      ['detect', 'r', 'd', '--out', 'o'],
      ['fprate', 'r'],
    ]) {
      const { program, ran } = parseOnly();
      const err = await program.parseAsync(['node', 'daqyolo', ...args, '--device', 'cuda']).then(
        () => null,
        (e: Error) => e,
      );
      assert.equal(ran(), null, args[0]);
      assert.match(err?.message ?? '', /^--device: device 'cuda' asked for, but this libtorch build has no CUDA device \(use --device cpu\)$/, args[0]);
    }
  },
);

test('the CLI prints the refusal as one line and makes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-options-'));
  try {
    const r = run(['simulate', '--out', join(dir, 'x.h5'), '--images', '1e12']);
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split('\n'), ['daqyolo: --images: expected an integer from 1 to 10^7, got "1e12"']);
    assert.deepEqual(errorLines(r).length, 1);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

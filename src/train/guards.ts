// The NaN guards of a training step: a non-finite loss term or gradient stops training with the
// step, epoch, batch and the scale/term or parameter that went bad, before the optimiser writes it
// into the weights (the last good checkpoint stays).
import { tidy, stack, type Tensor } from '../torch/index.js';
import { TERMS, type LossValues } from '../loss/yolo-loss.js';
import { UserError } from '../errors.js';
import { SCALE_NAMES, type TermRecord } from '../schema/run.js';

export class NonFiniteLossError extends UserError {}

/** A scale's terms as the means over the batch's images (one metrics.jsonl batch record). */
export function meanTerms(s: LossValues['scales'][number]): TermRecord {
  const n = s.xy.length;
  const m = (v: number[]) => v.reduce((a, b) => a + b, 0) / n;
  return { xy: m(s.xy), wh: m(s.wh), conf1: m(s.conf1), conf2: m(s.conf2), class: m(s.class), total: m(s.total) };
}

/** The NaN guard: names the batch, scale and term that went non-finite. */
export function checkFinite(v: LossValues, step: number, epoch: number, batch: number): void {
  for (let s = 0; s < v.scales.length; s++) {
    for (const t of [...TERMS, 'total'] as const) {
      if (v.scales[s]![t].some((x) => !Number.isFinite(x))) {
        throw new NonFiniteLossError(
          `non-finite loss at step ${step} (epoch ${epoch}, batch ${batch}): scale ${s} (${SCALE_NAMES[s] ?? s}), term ${t}; the last good checkpoint is kept`,
        );
      }
    }
  }
  if (!Number.isFinite(v.objective))
    throw new NonFiniteLossError(`non-finite objective at step ${step} (epoch ${epoch}, batch ${batch}); the last good checkpoint is kept`);
}

/**
 * The NaN guard on gradients: a finite loss can still give non-finite gradients (√ at 0, an
 * overflow in backward), which the optimiser would write into every weight. One device sync per
 * step (the sum of every gradient); the parameter is looked up only when that sum is not finite.
 */
export function checkGradients(named: Iterable<[string, Tensor]>, step: number, epoch: number, batch: number): void {
  tidy(() => {
    const withGrad = [...named].flatMap(([name, p]) => {
      const g = p.grad;
      return g ? [{ name, g }] : [];
    });
    if (!withGrad.length) return;
    const sums = stack(withGrad.map(({ g }) => g.sum().to('float64')));
    if (sums.isfinite().all().item() === 1) return;
    const bad = withGrad.find(({ g }) => g.isfinite().all().item() !== 1);
    // A finite-element sum can overflow to ±Inf without any element being non-finite: name that case too.
    const what = bad ? `parameter ${bad.name}` : 'the sum of all gradients (overflow)';
    throw new NonFiniteLossError(`non-finite gradient at step ${step} (epoch ${epoch}, batch ${batch}): ${what}; the last good checkpoint is kept`);
  });
}

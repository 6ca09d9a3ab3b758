// Optimisers that run in libtorch (torch::optim), with a learning rate that can change between
// steps and state that can be read for checkpoints and restored.
import { native, type OptimHandle } from './native.js';
import { Tensor, wrap } from './tensor.js';
import { keep } from './scope.js';

/** One parameter's optimiser state; tensors are copies owned by the caller. */
export interface ParamState {
  step?: number;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
  maxExpAvgSq?: Tensor;
  momentumBuffer?: Tensor;
}

abstract class Optimizer {
  protected readonly h: OptimHandle;
  readonly params: Tensor[];
  constructor(params: Tensor[], h: OptimHandle) {
    this.params = params;
    this.h = h;
  }
  /** Clears every parameter's gradient (set to none). */
  zeroGrad(): void {
    this.checkBound();
    native.optimZeroGrad(this.h);
  }
  /**
   * Frees the optimiser and its state (Adam: two tensors per parameter) now rather than when the
   * garbage collector finds it; the parameters stay the caller's. Any later call throws.
   */
  dispose(): void {
    native.optimFree(this.h);
  }
  step(): void {
    this.checkBound();
    native.optimStep(this.h);
  }
  /**
   * The optimiser holds the tensors it was given. Module.to() and toChannelsLast() replace a
   * module's tensors (and dispose the old ones), so stepping on would update tensors the model no
   * longer uses while training seemed to work: refuse instead.
   */
  private checkBound(): void {
    const k = this.params.findIndex((p) => p.isDisposed);
    if (k >= 0) {
      throw new Error(
        `optimiser: parameter ${k} of ${this.params.length} was replaced after the optimiser was created (Module.to() or toChannelsLast()); create the optimiser after moving the model`,
      );
    }
  }
  get lr(): number {
    return native.optimGetLr(this.h);
  }
  set lr(v: number) {
    native.optimSetLr(this.h, v);
  }
  /** Per-parameter state in parameter order; null where a parameter has no state yet. */
  getState(): (ParamState | null)[] {
    const raw = native.optimGetState(this.h);
    return raw.map((r) => {
      if (r === null) return null;
      const out: ParamState = {};
      for (const [k, v] of Object.entries(r)) {
        (out as Record<string, unknown>)[k] = typeof v === 'number' ? v : keep(wrap(v as never));
      }
      return out;
    });
  }
  /** Restores state from getState() (or a checkpoint); shapes must match the parameters. */
  setState(state: (ParamState | null)[]): void {
    if (state.length !== this.params.length) {
      throw new Error(`optimiser state has ${state.length} entries, the optimiser has ${this.params.length} parameters`);
    }
    native.optimSetState(
      this.h,
      state.map((s) => (s === null ? null : Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? v.handle : v])))),
    );
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}
export class Adam extends Optimizer {
  constructor(params: Tensor[], o: AdamOptions = {}) {
    const [beta1, beta2] = o.betas ?? [0.9, 0.999];
    super(
      params,
      native.adam(
        params.map((p) => p.handle),
        { lr: o.lr ?? 1e-3, beta1, beta2, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0, amsgrad: o.amsgrad ?? false },
      ),
    );
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}
export class SGD extends Optimizer {
  constructor(params: Tensor[], o: SGDOptions) {
    super(
      params,
      native.sgd(
        params.map((p) => p.handle),
        { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o },
      ),
    );
  }
}
export type { Optimizer };

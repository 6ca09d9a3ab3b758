// nn.Module: named parameters, buffers and sub-modules; train/eval; state dicts with the same
// key names PyTorch uses (so weights move to and from Python through safetensors).
import { Tensor, keep, noGrad } from '../torch/index.js';

export class StateDictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateDictError';
  }
}

export abstract class Module {
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, Tensor>();
  #children = new Map<string, Module>();
  training = true;

  /** Registers a trainable tensor (kept out of every scope, requires grad). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    keep(t);
    if (!t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }
  /** Registers a non-trainable tensor that belongs in the state dict (e.g. running statistics). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.#buffers.set(name, t);
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }
  /** Replaces a registered parameter or buffer (device moves, memory-format changes). */
  protected replaceTensor(name: string, t: Tensor): void {
    if (this.#params.has(name)) {
      const old = this.#params.get(name)!;
      keep(t);
      if (!t.requiresGrad) t.requiresGrad_(true);
      this.#params.set(name, t);
      old.dispose();
    } else if (this.#buffers.has(name)) {
      const old = this.#buffers.get(name)!;
      this.#buffers.set(name, keep(t));
      old.dispose();
    } else {
      throw new Error(`no parameter or buffer named ${name}`);
    }
    this.onTensorReplaced(name, t);
  }
  /** Sub-classes that cache a tensor reference in a field refresh it here. */
  protected onTensorReplaced(_name: string, _t: Tensor): void {}

  children(): [string, Module][] {
    return [...this.#children.entries()];
  }
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.#children) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this.#params) yield [prefix ? `${prefix}.${n}` : n, p];
    for (const [n, m] of this.#children) yield* m.namedParameters(prefix ? `${prefix}.${n}` : n);
  }
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.#buffers) yield [prefix ? `${prefix}.${n}` : n, b];
    for (const [n, m] of this.#children) yield* m.namedBuffers(prefix ? `${prefix}.${n}` : n);
  }
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }
  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name, in registration order (live references, not copies). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const visit = (m: Module, prefix: string): void => {
      for (const [n, p] of m.#params) out.set(prefix + n, p);
      for (const [n, b] of m.#buffers) out.set(prefix + n, b);
      for (const [n, c] of m.#children) visit(c, `${prefix}${n}.`);
    };
    visit(this, '');
    return out;
  }

  /**
   * Copies values into the parameters and buffers. Strict mode (default) refuses missing or
   * unexpected keys; shapes must always match. The message lists every problem found.
   */
  loadStateDict(state: Map<string, Tensor>, o: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const strict = o.strict ?? true;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, t] of own) {
      const s = state.get(k);
      if (s && s.shape.join(',') !== t.shape.join(',')) mismatched.push(`${k}: checkpoint [${s.shape}] vs model [${t.shape}]`);
    }
    // Long lists are cut so that the message stays readable (the count says how many there are).
    const list = (keys: string[], sep: string) => (keys.length <= 8 ? keys.join(sep) : `${keys.slice(0, 8).join(sep)}${sep}… (${keys.length} in all)`);
    const problems: string[] = [];
    if (mismatched.length) problems.push(`shape mismatch for ${list(mismatched, '; ')}`);
    if (strict && missing.length) problems.push(`missing keys: ${list(missing, ', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${list(unexpected, ', ')}`);
    if (problems.length) throw new StateDictError(`cannot load state dict: ${problems.join('. ')}`);
    noGrad(() => {
      for (const [k, t] of own) {
        const s = state.get(k);
        if (!s) continue;
        const src = s.dtype === t.dtype && s.device === t.device ? s : s.to(t.dtype, t.device);
        t.copy_(src);
        if (src !== s) src.dispose();
      }
    });
    return { missing, unexpected };
  }

  /** Moves every parameter and buffer to a device ('cpu', 'cuda', …). */
  to(device: string): this {
    for (const [, m] of this.namedModules()) {
      for (const [n, p] of [...m.#params, ...m.#buffers]) {
        if (p.device === device) continue;
        const moved = noGrad(() => p.to(device));
        m.replaceTensor(n, moved);
      }
    }
    return this;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of [...m.#params.values(), ...m.#buffers.values()]) t.dispose();
    }
  }
}

/** A module with one input and one output. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

// Grad mode: noGrad(fn) runs fn without recording the autograd graph (inference, metrics).
import { native } from './native.js';

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
export function setGradEnabled(on: boolean): void {
  native.setGradEnabled(on);
}
/** Runs fn with autograd recording off, restoring the previous mode afterwards. */
export function noGrad<T>(fn: () => T): T {
  const prev = isGradEnabled();
  setGradEnabled(false);
  try {
    return fn();
  } finally {
    setGradEnabled(prev);
  }
}

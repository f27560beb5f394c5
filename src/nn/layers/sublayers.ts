/** Helpers for composite layers (attention blocks, inception modules) built from other layers. */
import type { Layer, Shape } from '../layer.js';

/**
 * Builds a sublayer for an input shape now (not on its first call), so that the composite
 * layer's weights, parameter count and summary are complete as soon as it is built.
 * Returns the sublayer's output shape, to build the next one in a chain.
 */
export function buildSublayer(layer: Layer, inputShape: Shape): Shape {
  if (!layer.built) {
    layer.build(inputShape);
    layer.built = true;
  }
  return layer.computeOutputShape(inputShape);
}

/** The bottleneck width of an attention MLP: floor(C / r), at least 1. */
export function reducedUnits(channels: number, ratio: number): number {
  return Math.max(1, Math.floor(channels / ratio));
}

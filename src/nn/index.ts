/** Layers and models. `rc.layers.Conv2D` etc. come from here. */

export {
  type ActivationArg,
  type ActivationName,
  activationNames,
  getActivation,
} from './activation_fns.js';
export { Functional, Input, type ModelArgs } from './functional.js';
export {
  fans,
  getInitializer,
  type Initializer,
  type InitializerArg,
  type InitializerName,
} from './initializers.js';
export {
  type CallOptions,
  clearSession,
  Layer,
  type LayerArgs,
  type LayerConfig,
  layerFromConfig,
  registerLayer,
  type Shape,
  SymbolicTensor,
} from './layer.js';
export * as layers from './layers/index.js';

/** Optimizers by name ('adam' in model.compile), by instance, or from a saved config. */
import { ArgumentError } from '../util/errors.js';
import { didYouMean } from '../util/options.js';
import { Adam, AdamW } from './adam.js';
import { Lookahead } from './lookahead.js';
import { Optimizer, type OptimizerConfig, type OptimizerOptions } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

type OptimizerClass = (new (
  options?: never,
) => Optimizer) & {
  readonly className: string;
  fromConfig(config: OptimizerConfig): Optimizer;
};

// Built on first use: Lookahead imports this module (for its inner optimizer), so its class may
// not exist yet while this module is first evaluated.
let table: Record<string, OptimizerClass> | undefined;
function classes(): Record<string, OptimizerClass> {
  table ??= {
    sgd: SGD as OptimizerClass,
    adam: Adam as OptimizerClass,
    adamw: AdamW as OptimizerClass,
    rmsprop: RMSprop as OptimizerClass,
    lookahead: Lookahead as unknown as OptimizerClass,
  };
  return table;
}

/** The names getOptimizer knows (lower case; matching ignores case). */
export function optimizerNames(): string[] {
  return Object.keys(classes());
}

function lookup(where: string, name: string): OptimizerClass {
  // Any case, and Keras's spellings with underscores ('adam_w').
  const key = typeof name === 'string' ? name.toLowerCase().replace(/_/g, '') : '';
  const cls = Object.hasOwn(classes(), key) ? classes()[key] : undefined;
  if (!cls) {
    throw new ArgumentError(
      `${where}: unknown optimizer '${String(name)}'.${typeof name === 'string' ? didYouMean(name.toLowerCase(), optimizerNames()) : ''} Known optimizers: ${optimizerNames().join(', ')} ` +
        '(any case), or pass an Optimizer instance.',
    );
  }
  return cls;
}

/**
 * An optimizer from a name ('sgd', 'adam', 'adamw', 'rmsprop', 'lookahead', any case) with optional
 * option overrides, from a config (getConfig()'s output, className picks the class), or an
 * Optimizer instance returned as is.
 */
export function getOptimizer(
  nameOrInstance: string | Optimizer | OptimizerConfig,
  overrides?: OptimizerOptions & Record<string, unknown>,
): Optimizer {
  const where = 'getOptimizer';
  if (nameOrInstance instanceof Optimizer) {
    if (overrides !== undefined && Object.keys(overrides).length > 0) {
      throw new ArgumentError(
        `${where}: overrides (${Object.keys(overrides).join(', ')}) apply only to an optimizer given by name; ` +
          `set them when constructing the ${nameOrInstance.name} instance.`,
      );
    }
    return nameOrInstance;
  }
  if (typeof nameOrInstance === 'string') {
    const cls = lookup(where, nameOrInstance);
    if (cls === (Lookahead as unknown) && overrides?.optimizer === undefined)
      throw new ArgumentError(
        `${where}: 'lookahead' wraps another optimizer; pass new rc.Lookahead({ optimizer: new rc.SGD({ momentum: 0.9 }) }) or getOptimizer('lookahead', { optimizer: 'sgd' }).`,
      );
    return new cls((overrides ?? {}) as never);
  }
  if (nameOrInstance !== null && typeof nameOrInstance === 'object') {
    const config = nameOrInstance;
    if (typeof config.className !== 'string') {
      throw new ArgumentError(
        `${where}: a config needs a className ('SGD', 'Adam', 'AdamW', 'RMSprop', 'Lookahead'), got ${String(config.className)}.`,
      );
    }
    const cls = lookup(where, config.className);
    return cls.fromConfig({ ...config, ...overrides, className: cls.className } as OptimizerConfig);
  }
  throw new ArgumentError(
    `${where}: expected an optimizer name (${optimizerNames().join(', ')}), an Optimizer or a config, got ${String(nameOrInstance)}.`,
  );
}

/**
 * Weight initializers, by Keras's names. Each draws from the library's seeded generator, so
 * setSeed() makes a model's initial weights repeat exactly.
 */
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { camelName, didYouMean, type SnakeCase } from '../util/options.js';
import { globalRandom } from '../util/random.js';
import { sizeOf } from '../util/shape.js';

/** A function that makes a weight's initial values for its shape (`(shape) => rc.randn(shape, { std: 0.01 })`). */
export type Initializer = (shape: number[]) => Tensor;
/**
 * Keras's initializers by name. fanIn / fanOut are Keras's (a kernel [kh, kw, in, out] has
 * fanIn kh·kw·in): `glorotUniform` U(±√(6 / (fanIn + fanOut))), `glorotNormal`, `heUniform`
 * U(±√(6 / fanIn)), `heNormal`, `lecunUniform`, `lecunNormal` (the normal ones truncated at two
 * standard deviations, as Keras's), `randomNormal` N(0, 0.05²), `randomUniform` U(±0.05),
 * `zeros`, `ones`. They draw from the global generator ({@link setSeed}).
 */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heUniform'
  | 'heNormal'
  | 'lecunUniform'
  | 'lecunNormal'
  | 'randomNormal'
  | 'randomUniform';

/** An initializer as layers take it: receptive's name, Keras's ('glorot_uniform'), or a function. */
export type InitializerArg = InitializerName | SnakeCase<InitializerName> | Initializer;

/** fanIn and fanOut as Keras computes them: for a conv kernel [kh, kw, in, out], the receptive field times in / out. */
export function fans(shape: number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptive = sizeOf(shape.slice(0, -2));
  return [receptive * shape[shape.length - 2]!, receptive * shape[shape.length - 1]!];
}

function uniform(shape: number[], limit: number): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = globalRandom.uniform(-limit, limit);
  return tensor(v, shape);
}

/** Normal truncated at two standard deviations (redrawn), as Keras's variance-scaling initializers use. */
function truncatedNormal(shape: number[], std: number): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) {
    let z = globalRandom.normal();
    while (Math.abs(z) > 2) z = globalRandom.normal();
    v[i] = z * std;
  }
  return tensor(v, shape);
}

// 0.8796... is the std of a unit normal truncated to [-2, 2]; dividing by it keeps the variance.
const TRUNC = 0.87962566103423978;

const table: Record<InitializerName, Initializer> = {
  zeros: (s) => tensor(new Float32Array(sizeOf(s)), s),
  ones: (s) => tensor(new Float32Array(sizeOf(s)).fill(1), s),
  glorotUniform: (s) => {
    const [fi, fo] = fans(s);
    return uniform(s, Math.sqrt(6 / (fi + fo)));
  },
  glorotNormal: (s) => {
    const [fi, fo] = fans(s);
    return truncatedNormal(s, Math.sqrt(2 / (fi + fo)) / TRUNC);
  },
  heUniform: (s) => uniform(s, Math.sqrt(6 / fans(s)[0])),
  heNormal: (s) => truncatedNormal(s, Math.sqrt(2 / fans(s)[0]) / TRUNC),
  lecunUniform: (s) => uniform(s, Math.sqrt(3 / fans(s)[0])),
  lecunNormal: (s) => truncatedNormal(s, Math.sqrt(1 / fans(s)[0]) / TRUNC),
  randomNormal: (s) => {
    const v = new Float32Array(sizeOf(s));
    for (let i = 0; i < v.length; i++) v[i] = 0.05 * globalRandom.normal();
    return tensor(v, s);
  },
  randomUniform: (s) => uniform(s, 0.05),
};

/**
 * The initializer's own name for `name`, which may be Keras's spelling ('glorot_uniform',
 * 'GlorotUniform'), or the function as given; an unknown name is an ArgumentError that names
 * `where` and the closest known name.
 */
export function initializerName(
  name: InitializerArg,
  where: string,
): InitializerName | Initializer {
  if (typeof name === 'function') return name;
  if (typeof name === 'string') {
    if (Object.hasOwn(table, name)) return name as InitializerName;
    const camel = camelName(name);
    if (Object.hasOwn(table, camel)) return camel as InitializerName;
  }
  throw new ArgumentError(
    `${where}: unknown initializer '${String(name)}'.${typeof name === 'string' ? didYouMean(name, Object.keys(table)) : ''} Known: ${Object.keys(table).join(', ')} (Keras's snake_case names such as 'glorot_uniform' work too), or a function (shape) => Tensor.`,
  );
}

/**
 * The initializer for a name (Keras's snake_case spellings too; a function passes through);
 * `where` names the caller in errors.
 * @throws ArgumentError for an unknown name
 */
export function getInitializer(name: InitializerArg, where: string): Initializer {
  const n = initializerName(name, where);
  return typeof n === 'function' ? n : table[n];
}

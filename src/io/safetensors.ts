/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
 * header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__ }, then the raw
 * little-endian bytes. PyTorch, JAX and others read it, so weights travel.
 */
import { ArgumentError, ReceptiveError } from '../util/errors.js';

export class FormatError extends ReceptiveError {}

/** A named array read from a safetensors file. */
export interface NamedArray {
  /** The tensor's name in the file. */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its values, row-major. */
  data: Float32Array | Int32Array;
}

const DTYPES = { F32: Float32Array, I32: Int32Array } as const;

/** What can be written: float32, int32, and int64 (PyTorch's num_batches_tracked). */
export interface EncodableArray {
  /** The tensor's name in the file (unique). */
  name: string;
  /** Its shape (the product should be data's length; it is not checked here). */
  shape: number[];
  /** Its values, row-major. */
  data: Float32Array | Int32Array | BigInt64Array;
}

/** Options of {@link decodeSafetensors}. */
export interface DecodeOptions {
  /**
   * Also read the dtypes other frameworks write, converted: F64, F16 and BF16 to float32,
   * I64 to int32 (values beyond int32 are an error). Default false: F32 and I32 only.
   */
  convert?: boolean;
}

function dtypeOf(data: EncodableArray['data']): string {
  return data instanceof Int32Array ? 'I32' : data instanceof BigInt64Array ? 'I64' : 'F32';
}

/**
 * The safetensors bytes of `arrays` (Hugging Face's format: an 8-byte header length, a JSON
 * header, the raw little-endian data), with string `metadata` in the header.
 * @throws ArgumentError for a name given twice (shapes are written as given: make them match the data)
 */
export function encodeSafetensors(
  arrays: EncodableArray[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const seen = new Set<string>();
  for (const a of arrays) {
    if (seen.has(a.name))
      throw new ArgumentError(`safetensors: the name '${a.name}' appears twice.`);
    seen.add(a.name);
    const bytes = a.data.byteLength;
    header[a.name] = {
      dtype: dtypeOf(a.data),
      shape: a.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does
  // (counting bytes, not characters: names may hold non-ASCII characters).
  const jsonBytes = new TextEncoder().encode(json).length;
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const a of arrays) {
    out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), pos);
    pos += a.data.byteLength;
  }
  return out;
}

/**
 * Reads safetensors bytes; `where` (a file name) names them in errors.
 * @throws FormatError for bytes that are not safetensors (truncated, a bad header, offsets
 *   outside the data) or a dtype not read (see `convert`)
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  where = 'safetensors',
  options: DecodeOptions = {},
): {
  /** The arrays, in the header's order. */
  arrays: NamedArray[];
  /** The header's `__metadata__` strings. */
  metadata: Record<string, string>;
} {
  if (bytes.length < 8)
    throw new FormatError(
      `${where}: the file is ${bytes.length} bytes, too short to be safetensors.`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8)
    throw new FormatError(
      `${where}: the header claims ${n} bytes but the file has ${bytes.length - 8} after the length; the file is truncated or not safetensors.`,
    );
  let header: Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new FormatError(
      `${where}: the header is not valid JSON; the file is corrupt or not safetensors.`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new FormatError(
      `${where}: the header is not a JSON object; the file is corrupt or not safetensors.`,
    );
  const dataStart = 8 + n;
  const arrays: NamedArray[] = [];
  const isIndex = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = (info ?? {}) as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    // A malformed entry gets a FormatError here, not a TypeError further down.
    if (
      !Array.isArray(shape) ||
      !shape.every(isIndex) ||
      !Array.isArray(data_offsets) ||
      data_offsets.length !== 2 ||
      !data_offsets.every(isIndex) ||
      data_offsets[0] > data_offsets[1]
    )
      throw new FormatError(
        `${where}: the header entry of tensor '${name}' is malformed (needs dtype, shape and data_offsets [begin, end]); the file is corrupt or not safetensors.`,
      );
    const [b, e] = data_offsets;
    const count = shape.reduce((a, d) => a * d, 1);
    const known = Object.hasOwn(options.convert ? CONVERTED : DTYPES_WIDTH, dtype);
    const width = !known
      ? undefined
      : options.convert
        ? CONVERTED[dtype]!.width
        : DTYPES_WIDTH[dtype];
    if (width === undefined)
      throw new FormatError(
        options.convert
          ? `${where}: tensor '${name}' has dtype ${dtype}; receptive reads F32, F64, F16, BF16, I32 and I64.`
          : `${where}: tensor '${name}' has dtype ${dtype}; receptive reads F32 and I32.`,
      );
    if (e - b !== count * width || dataStart + e > bytes.length) {
      throw new FormatError(
        `${where}: tensor '${name}' (shape [${shape}]) needs ${count * width} bytes at ${b}..${e}, which the file does not hold; it is truncated or corrupt.`,
      );
    }
    // Copy into an aligned buffer (the header length need not keep the data aligned).
    const copy = new Uint8Array(e - b);
    copy.set(bytes.subarray(dataStart + b, dataStart + e));
    const data = options.convert
      ? CONVERTED[dtype]!.read(new DataView(copy.buffer), count, `${where}: tensor '${name}'`)
      : new DTYPES[dtype as keyof typeof DTYPES](copy.buffer);
    arrays.push({ name, shape, data });
  }
  return { arrays, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

const DTYPES_WIDTH: Record<string, number> = { F32: 4, I32: 4 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE half precision → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const CONVERTED: Record<
  string,
  { width: number; read: (v: DataView, n: number, what: string) => Float32Array | Int32Array }
> = {
  F32: {
    width: 4,
    read: (v, n) =>
      LITTLE_ENDIAN
        ? new Float32Array(v.buffer, v.byteOffset, n)
        : Float32Array.from({ length: n }, (_, i) => v.getFloat32(i * 4, true)),
  },
  F64: {
    width: 8,
    read: (v, n) => Float32Array.from({ length: n }, (_, i) => v.getFloat64(i * 8, true)),
  },
  F16: {
    width: 2,
    read: (v, n) =>
      Float32Array.from({ length: n }, (_, i) => halfToFloat(v.getUint16(i * 2, true))),
  },
  BF16: {
    width: 2,
    read: (v, n) => {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(i * 2, true) << 16;
      return new Float32Array(bits.buffer);
    },
  },
  I32: {
    width: 4,
    read: (v, n) => Int32Array.from({ length: n }, (_, i) => v.getInt32(i * 4, true)),
  },
  I64: {
    width: 8,
    read: (v, n, what) =>
      Int32Array.from({ length: n }, (_, i) => {
        const x = v.getBigInt64(i * 8, true);
        if (x > 2147483647n || x < -2147483648n)
          throw new FormatError(`${what} holds the int64 value ${x}, beyond int32.`);
        return Number(x);
      }),
  },
};

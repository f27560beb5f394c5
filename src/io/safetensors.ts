/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
 * header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__ }, then the raw
 * little-endian bytes. PyTorch, JAX and others read it, so weights travel.
 */
import { ArgumentError, ReceptiveError } from '../util/errors.js';

export class FormatError extends ReceptiveError {}

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

const DTYPES = { F32: Float32Array, I32: Int32Array } as const;

export function encodeSafetensors(
  arrays: NamedArray[],
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
      dtype: a.data instanceof Int32Array ? 'I32' : 'F32',
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

export function decodeSafetensors(
  bytes: Uint8Array,
  where = 'safetensors',
): { arrays: NamedArray[]; metadata: Record<string, string> } {
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
    const Ctor = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype as keyof typeof DTYPES] : undefined;
    if (!Ctor)
      throw new FormatError(
        `${where}: tensor '${name}' has dtype ${dtype}; receptive reads F32 and I32.`,
      );
    const [b, e] = data_offsets;
    const count = shape.reduce((a, d) => a * d, 1);
    if (e - b !== count * 4 || dataStart + e > bytes.length) {
      throw new FormatError(
        `${where}: tensor '${name}' (shape [${shape}]) needs ${count * 4} bytes at ${b}..${e}, which the file does not hold; it is truncated or corrupt.`,
      );
    }
    // Copy into an aligned buffer (the header length need not keep the data 4-byte aligned).
    const copy = new Uint8Array(e - b);
    copy.set(bytes.subarray(dataStart + b, dataStart + e));
    arrays.push({ name, shape, data: new Ctor(copy.buffer) });
  }
  return { arrays, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

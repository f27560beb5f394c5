/**
 * The IDX format of MNIST (LeCun et al.): a magic number (two zero bytes, a type byte,
 * the number of dimensions), the dimensions as big-endian uint32, then the values.
 * Every size is checked against the header so a truncated file is caught, not misread.
 */
import { DataError } from './errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file (MNIST's format: magic number, dimensions, unsigned bytes); `name` names
 * it in errors.
 * @throws DataError for bytes that are not an unsigned-byte IDX file, or are truncated
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4)
    throw new DataError(
      `${name}: ${bytes.length} bytes is too short for an IDX file (it needs at least the 4-byte magic number).`,
    );
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(
      `${name}: wrong magic number (${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}); an IDX file starts with 00 00. ` +
        'Is it still gzipped under another name, or not an IDX file?',
    );
  }
  if (bytes[2] !== 0x08) {
    throw new DataError(
      `${name}: IDX value type 0x${bytes[2]!.toString(16)} is not supported; receptive reads unsigned bytes (0x08), as MNIST and Fashion-MNIST use.`,
    );
  }
  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > 4)
    throw new DataError(
      `${name}: the header claims ${ndims} dimensions; MNIST files have 1 (labels) or 3 (images).`,
    );
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen)
    throw new DataError(
      `${name}: the file ends inside its header (${bytes.length} of ${headerLen} bytes).`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, d) => a * d, 1);
  const have = bytes.length - headerLen;
  if (have < count) {
    throw new DataError(
      `${name}: truncated: the header promises ${dims.join('×')} = ${count} values but the file holds ${have}. Download it again.`,
    );
  }
  if (have > count) {
    throw new DataError(
      `${name}: ${have - count} bytes follow the ${dims.join('×')} values the header describes; the file is corrupt or not what its header says.`,
    );
  }
  return { dims, data: bytes.subarray(headerLen) };
}

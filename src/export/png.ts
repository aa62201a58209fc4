/**
 * A small PNG codec over `node:zlib`: writes 8-bit grayscale, 16-bit grayscale and 8-bit RGB
 * images (label maps and overlay stills) and reads those plus the common kinds other tools write
 * for masks (1/2/4-bit grayscale, palette images such as DAVIS annotations, 8-bit RGBA).
 * Every chunk's CRC is checked, so a damaged file is rejected rather than misread.
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";
import { crc32 } from "./crc32.ts";

/** 8-bit grayscale pixels, one byte per pixel. */
export interface Gray8Image {
  readonly kind: "gray8";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** 16-bit grayscale pixels, one `Uint16Array` element per pixel. */
export interface Gray16Image {
  readonly kind: "gray16";
  readonly width: number;
  readonly height: number;
  readonly data: Uint16Array;
}

/** Packed 8-bit RGB pixels (`width * height * 3` bytes). */
export interface Rgb8Image {
  readonly kind: "rgb8";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Packed 8-bit RGBA pixels (decode only). */
export interface Rgba8Image {
  readonly kind: "rgba8";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Palette indices, one byte per pixel, with the `PLTE` entries as packed RGB (decode only). */
export interface IndexedImage {
  readonly kind: "indexed";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly palette: Uint8Array;
}

/** Images `encodePng` writes. */
export type EncodablePngImage = Gray8Image | Gray16Image | Rgb8Image;
/** Images `decodePng` returns. Sub-byte grayscale comes back as `gray8` with raw sample values. */
export type PngImage = EncodablePngImage | Rgba8Image | IndexedImage;

const SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
const COLOR_GRAY = 0, COLOR_RGB = 2, COLOR_INDEXED = 3, COLOR_RGBA = 6;

/**
 * Encodes an image as PNG (no interlace; per-row filter chosen by the usual minimum
 * sum-of-absolute-differences heuristic; deflate level 6).
 *
 * @example
 * ```ts
 * const png = encodePng({ kind: "gray8", width: 2, height: 1, data: new Uint8Array([0, 7]) });
 * await Deno.writeFile("labels.png", png);
 * ```
 */
export function encodePng(image: EncodablePngImage): Uint8Array {
  const { width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`PNG size ${width}x${height} must be positive integers`);
  }
  const channels = image.kind === "rgb8" ? 3 : 1;
  const bytesPerSample = image.kind === "gray16" ? 2 : 1;
  const expected = width * height * channels;
  if (image.data.length !== expected) {
    throw new Error(
      `PNG ${image.kind} data has ${image.data.length} samples, expected ${expected}`,
    );
  }
  const bpp = channels * bytesPerSample;
  const stride = width * bpp;
  const raw = new Uint8Array(stride * height);
  if (image.kind === "gray16") {
    for (let i = 0; i < image.data.length; i++) {
      raw[2 * i] = image.data[i] >> 8;
      raw[2 * i + 1] = image.data[i] & 0xff;
    }
  } else {
    raw.set(image.data);
  }
  const filtered = new Uint8Array((stride + 1) * height);
  const candidate = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * stride, (y + 1) * stride);
    const prior = y > 0 ? raw.subarray((y - 1) * stride, y * stride) : undefined;
    let bestType = 0, bestCost = Infinity;
    for (let type = 0; type < 5; type++) {
      if (prior === undefined && (type === 2 || type === 4)) continue;
      filterRow(type, row, prior, bpp, candidate);
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        cost += candidate[i] < 128 ? candidate[i] : 256 - candidate[i];
      }
      if (cost < bestCost) {
        bestCost = cost;
        bestType = type;
      }
    }
    const offset = y * (stride + 1);
    filtered[offset] = bestType;
    filterRow(bestType, row, prior, bpp, filtered.subarray(offset + 1, offset + 1 + stride));
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = bytesPerSample * 8;
  ihdr[9] = channels === 3 ? COLOR_RGB : COLOR_GRAY;
  const compressed = new Uint8Array(deflateSync(filtered, { level: 6 }));
  return concat([
    SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("IDAT", compressed),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/**
 * Decodes a PNG. Throws an `Error` whose message starts with `PNG:` and says what is wrong for
 * anything that is not a complete, undamaged, supported PNG (bad signature, truncation, CRC
 * mismatch, corrupt deflate stream, wrong data length, interlacing, unsupported colour type).
 *
 * @example
 * ```ts
 * const image = decodePng(await Deno.readFile("labels.png"));
 * if (image.kind === "gray16") console.log(image.data[0]);
 * ```
 */
export function decodePng(bytes: Uint8Array): PngImage {
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error("PNG: not a PNG file (bad signature)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = SIGNATURE.length;
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) throw new Error("PNG: truncated chunk header");
    const length = view.getUint32(pos);
    const typeBytes = bytes.subarray(pos + 4, pos + 8);
    const type = String.fromCharCode(...typeBytes);
    if (pos + 12 + length > bytes.length) throw new Error(`PNG: truncated ${type} chunk`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (view.getUint32(pos + 8 + length) !== crc32(typeBytes, data)) {
      throw new Error(`PNG: CRC mismatch in ${type} chunk (file is corrupt)`);
    }
    pos += 12 + length;
    if (header === undefined && type !== "IHDR") throw new Error("PNG: first chunk is not IHDR");
    if (type === "IHDR") header = readHeader(data);
    else if (type === "PLTE") palette = data.slice();
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") {
      ended = true;
      break;
    }
  }
  if (header === undefined) throw new Error("PNG: missing IHDR chunk");
  if (!ended) throw new Error("PNG: missing IEND chunk (file is truncated)");
  if (idat.length === 0) throw new Error("PNG: no image data (IDAT)");
  let inflated: Uint8Array;
  try {
    inflated = new Uint8Array(inflateSync(concat(idat)));
  } catch (error) {
    throw new Error(`PNG: corrupt image data (${(error as Error).message})`);
  }
  const { width, height, bitDepth, colorType } = header;
  const channels = colorType === COLOR_RGB ? 3 : colorType === COLOR_RGBA ? 4 : 1;
  const bitsPerPixel = channels * bitDepth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel / 8);
  if (inflated.length !== (stride + 1) * height) {
    throw new Error(
      `PNG: image data has ${inflated.length} bytes, expected ${(stride + 1) * height}`,
    );
  }
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const type = inflated[y * (stride + 1)];
    if (type > 4) throw new Error(`PNG: invalid filter type ${type} on row ${y}`);
    const src = inflated.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const prior = y > 0 ? raw.subarray((y - 1) * stride, y * stride) : undefined;
    unfilterRow(type, src, prior, bpp, raw.subarray(y * stride, (y + 1) * stride));
  }
  if (colorType === COLOR_INDEXED) {
    if (palette === undefined) throw new Error("PNG: palette image without a PLTE chunk");
    return {
      kind: "indexed",
      width,
      height,
      data: unpackSamples(raw, width, height, bitDepth),
      palette,
    };
  }
  if (colorType === COLOR_RGB) return { kind: "rgb8", width, height, data: raw };
  if (colorType === COLOR_RGBA) return { kind: "rgba8", width, height, data: raw };
  if (bitDepth === 16) {
    const data = new Uint16Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = (raw[2 * i] << 8) | raw[2 * i + 1];
    return { kind: "gray16", width, height, data };
  }
  return { kind: "gray8", width, height, data: unpackSamples(raw, width, height, bitDepth) };
}

interface Header {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
}

function readHeader(data: Uint8Array): Header {
  if (data.length !== 13) throw new Error("PNG: IHDR chunk has the wrong length");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0), height = view.getUint32(4);
  const bitDepth = data[8], colorType = data[9];
  if (width === 0 || height === 0) throw new Error(`PNG: invalid size ${width}x${height}`);
  if (data[10] !== 0 || data[11] !== 0) {
    throw new Error("PNG: unknown compression or filter method");
  }
  if (data[12] !== 0) throw new Error("PNG: interlaced PNGs are not supported");
  const supported = (colorType === COLOR_GRAY && [1, 2, 4, 8, 16].includes(bitDepth)) ||
    (colorType === COLOR_RGB && bitDepth === 8) ||
    (colorType === COLOR_INDEXED && [1, 2, 4, 8].includes(bitDepth)) ||
    (colorType === COLOR_RGBA && bitDepth === 8);
  if (!supported) {
    throw new Error(
      `PNG: unsupported colour type ${colorType} with bit depth ${bitDepth} ` +
        "(supported: grayscale 1-16 bit, RGB 8 bit, RGBA 8 bit, palette)",
    );
  }
  return { width, height, bitDepth, colorType };
}

function unpackSamples(
  raw: Uint8Array,
  width: number,
  height: number,
  bitDepth: number,
): Uint8Array {
  if (bitDepth === 8) return raw;
  const stride = Math.ceil((width * bitDepth) / 8);
  const perByte = 8 / bitDepth;
  const maskBits = (1 << bitDepth) - 1;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = raw[y * stride + Math.floor(x / perByte)];
      const shift = 8 - bitDepth * (1 + (x % perByte));
      out[y * width + x] = (byte >> shift) & maskBits;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

function filterRow(
  type: number,
  row: Uint8Array,
  prior: Uint8Array | undefined,
  bpp: number,
  out: Uint8Array,
): void {
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prior ? prior[i] : 0;
    const c = prior && i >= bpp ? prior[i - bpp] : 0;
    const predictor = type === 0
      ? 0
      : type === 1
      ? a
      : type === 2
      ? b
      : type === 3
      ? (a + b) >> 1
      : paeth(a, b, c);
    out[i] = (row[i] - predictor) & 0xff;
  }
}

function unfilterRow(
  type: number,
  src: Uint8Array,
  prior: Uint8Array | undefined,
  bpp: number,
  out: Uint8Array,
): void {
  for (let i = 0; i < src.length; i++) {
    const a = i >= bpp ? out[i - bpp] : 0;
    const b = prior ? prior[i] : 0;
    const c = prior && i >= bpp ? prior[i - bpp] : 0;
    const predictor = type === 0
      ? 0
      : type === 1
      ? a
      : type === 2
      ? b
      : type === 3
      ? (a + b) >> 1
      : paeth(a, b, c);
    out[i] = (src[i] + predictor) & 0xff;
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  const typeBytes = new TextEncoder().encode(type);
  view.setUint32(0, data.length);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(typeBytes, data));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// What the platform accepts as an app's logo, judged by its bytes (a Content-Type header is the
// sender's claim, not a fact): PNG, JPEG or WebP, recognised by their signatures, with sane
// dimensions. Never an SVG from outside (a document that can carry scripts) nor anything else.
// And the placeholder answered when there is no logo to show: an SVG the platform writes itself,
// the app's initials on a neutral tile. Pure functions: no I/O.
import { crc32, deflateSync } from 'node:zlib';

export const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type LogoType = (typeof LOGO_TYPES)[number];

/** Largest logo fetched, in bytes. */
export const MAX_LOGO_BYTES = 256 * 1024;
/**
 * Largest side of a logo, in pixels. Pages show logos at 64 px; a small file that decodes to a
 * huge bitmap (a "pixel bomb") would cost every patient's browser memory for nothing.
 */
export const MAX_LOGO_SIDE = 2048;

export interface ImageInfo {
  type: LogoType;
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function png(bytes: Buffer): ImageInfo | null {
  // The signature, then the IHDR chunk first: length 13, type, width, height (big-endian).
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { type: 'image/png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// Start-of-frame markers carry the dimensions; C4 (Huffman tables), C8 (reserved) and CC
// (arithmetic coding conditioning) share the range but are not frames.
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpeg(bytes: Buffer): ImageInfo | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return null;
  // Walk the segments (marker, big-endian length including itself) up to the first frame header.
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame header
    const length = bytes.readUInt16BE(offset + 2);
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (offset + 9 > bytes.length) return null;
      return { type: 'image/jpeg', height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return null;
}

function webp(bytes: Buffer): ImageInfo | null {
  if (bytes.length < 30 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WEBP') return null;
  const chunk = bytes.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    // Lossy: a key frame's start code, then 14-bit width and height (little-endian).
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return null;
    return { type: 'image/webp', width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    // Lossless: a signature byte, then width − 1 and height − 1 on 14 bits each.
    if (bytes[20] !== 0x2f) return null;
    const bits = bytes.readUInt32LE(21);
    return { type: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    // Extended: canvas width − 1 and height − 1 on 24 bits each.
    return { type: 'image/webp', width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  }
  return null;
}

/** The image's format and size from its bytes, or null when it is not a PNG, JPEG or WebP. */
export function sniffImage(bytes: Buffer): ImageInfo | null {
  return png(bytes) ?? jpeg(bytes) ?? webp(bytes);
}

/** The media type of a Content-Type header, lower-cased, with `image/jpg` read as `image/jpeg`. */
function declaredType(contentType: string | undefined): string | null {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!type) return null;
  return type === 'image/jpg' ? 'image/jpeg' : type;
}

export type LogoCheck = { ok: true; image: ImageInfo } | { ok: false; reason: string };

/**
 * Whether fetched bytes are an acceptable logo: the Content-Type names PNG, JPEG or WebP, the
 * bytes are that format, and both sides fit MAX_LOGO_SIDE.
 */
export function checkLogo(bytes: Buffer, contentType: string | undefined): LogoCheck {
  const declared = declaredType(contentType);
  if (!declared || !LOGO_TYPES.includes(declared as LogoType)) {
    return { ok: false, reason: `is served as ${declared ?? 'no Content-Type'}; a logo must be PNG, JPEG or WebP` };
  }
  if (bytes.length > MAX_LOGO_BYTES) return { ok: false, reason: `is ${bytes.length} bytes; at most ${MAX_LOGO_BYTES} are accepted` };
  const image = sniffImage(bytes);
  if (!image) return { ok: false, reason: `is served as ${declared} but its content is not a PNG, JPEG or WebP image` };
  if (image.type !== declared) return { ok: false, reason: `is served as ${declared} but its content is ${image.type}` };
  if (image.width < 1 || image.height < 1 || image.width > MAX_LOGO_SIDE || image.height > MAX_LOGO_SIDE) {
    return { ok: false, reason: `is ${image.width}×${image.height} pixels; each side must be between 1 and ${MAX_LOGO_SIDE}` };
  }
  return { ok: true, image };
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/**
 * A PNG of `width` × `height` pixels from their 8-bit channels, row by row: RGB (3 bytes a pixel)
 * or RGBA (4 bytes a pixel, `alpha`).
 */
export function encodePng(width: number, height: number, pixels: Uint8Array, options: { alpha?: boolean } = {}): Buffer {
  const channels = options.alpha ? 4 : 3;
  if (pixels.length !== width * height * channels) throw new RangeError(`expected ${width * height * channels} bytes of pixels, got ${pixels.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, options.alpha ? 6 : 2, 0, 0, 0], 8); // 8 bits per channel, RGB(A), deflate, adaptive filtering, no interlace
  const stride = width * channels;
  const rows = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y += 1) rows.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter 0 (none) per row
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A PNG of `size` × `size` pixels of one opaque RGB colour. */
export function solidPng(size: number, [r, g, b]: readonly [number, number, number]): Buffer {
  const pixels = new Uint8Array(size * size * 3);
  for (let i = 0; i < pixels.length; i += 3) pixels.set([r, g, b], i);
  return encodePng(size, size, pixels);
}

/** The media type of the placeholder. */
export const PLACEHOLDER_TYPE = 'image/svg+xml';

const xmlText = (text: string): string => text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

/**
 * The placeholder of a logo that cannot be shown: an SVG of 64 × 64 in the colours of the pages'
 * tiles (soft background #f3f4f7, muted ink #4a4a55, contrast 8:1), with `initials` in the middle,
 * or nothing for an empty tile. Text and shapes only: no script, link, style sheet or external
 * reference, and it is served under `default-src 'none'` all the same.
 */
export function placeholderLogo(initials: string): Buffer {
  const text = initials
    ? `<text x="32" y="32" dy=".35em" text-anchor="middle" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" font-size="${Array.from(initials).length > 1 ? 24 : 28}" font-weight="700" fill="#4a4a55">${xmlText(initials)}</text>`
    : '';
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" fill="#f3f4f7"/>${text}</svg>`);
}

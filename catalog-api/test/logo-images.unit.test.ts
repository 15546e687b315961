// What passes for a logo, judged by its bytes: PNG, JPEG and WebP with their dimensions; SVG,
// GIF, HTML, truncated files, a Content-Type that lies and pixel bombs are refused. The PNGs the
// platform encodes, and the placeholder of a missing logo: an SVG of the app's initials.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkLogo, encodePng, MAX_LOGO_BYTES, placeholderLogo, sniffImage, solidPng } from '../src/web/logo-images.js';

/** A minimal baseline JPEG header: SOI, an APP0 segment, then a frame header of `width` × `height`. */
function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

/** A lossless WebP header of `width` × `height`. */
function webpHeader(width: number, height: number): Buffer {
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
  const data = Buffer.alloc(10);
  data[0] = 0x2f;
  data.writeUInt32LE(bits >>> 0, 1);
  const chunk = Buffer.concat([Buffer.from('VP8L'), Buffer.from([data.length, 0, 0, 0]), data]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(4 + chunk.length);
  return Buffer.concat([Buffer.from('RIFF'), size, Buffer.from('WEBP'), chunk]);
}

describe('sniffing a logo', () => {
  it('recognises PNG, JPEG and WebP by their bytes, with their dimensions', () => {
    expect(sniffImage(solidPng(3, [1, 2, 3]))).toEqual({ type: 'image/png', width: 3, height: 3 });
    expect(sniffImage(jpegHeader(120, 80))).toEqual({ type: 'image/jpeg', width: 120, height: 80 });
    expect(sniffImage(webpHeader(256, 128))).toEqual({ type: 'image/webp', width: 256, height: 128 });
  });

  it('recognises nothing else', () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    const html = Buffer.from('<!doctype html><html><body>hello</body></html>');
    for (const bytes of [svg, gif, html, Buffer.alloc(0), solidPng(2, [0, 0, 0]).subarray(0, 20), Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2])]) {
      expect(sniffImage(bytes)).toBeNull();
    }
  });
});

describe('checking a fetched logo', () => {
  const png = solidPng(16, [10, 20, 30]);

  it('accepts an image whose Content-Type and bytes agree', () => {
    expect(checkLogo(png, 'image/png')).toMatchObject({ ok: true, image: { type: 'image/png' } });
    expect(checkLogo(jpegHeader(64, 64), 'image/jpg')).toMatchObject({ ok: true, image: { type: 'image/jpeg' } });
    expect(checkLogo(webpHeader(64, 64), 'Image/WebP; charset=binary')).toMatchObject({ ok: true, image: { type: 'image/webp' } });
  });

  it('refuses SVG, a missing or other Content-Type, and bytes that are not what the Content-Type says', () => {
    expect(checkLogo(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml')).toMatchObject({ ok: false, reason: expect.stringContaining('image/svg+xml') });
    expect(checkLogo(png, undefined)).toMatchObject({ ok: false, reason: expect.stringContaining('no Content-Type') });
    expect(checkLogo(png, 'application/octet-stream')).toMatchObject({ ok: false });
    expect(checkLogo(Buffer.from('<html><script>alert(1)</script></html>'), 'image/png')).toMatchObject({ ok: false, reason: expect.stringContaining('not a PNG, JPEG or WebP') });
    expect(checkLogo(png, 'image/jpeg')).toMatchObject({ ok: false, reason: expect.stringContaining('its content is image/png') });
  });

  it('refuses a file over the size cap and a pixel bomb', () => {
    expect(checkLogo(Buffer.concat([png, Buffer.alloc(MAX_LOGO_BYTES)]), 'image/png')).toMatchObject({ ok: false, reason: expect.stringContaining('bytes') });
    expect(checkLogo(jpegHeader(30_000, 30_000), 'image/jpeg')).toMatchObject({ ok: false, reason: expect.stringContaining('30000×30000') });
    expect(checkLogo(webpHeader(4096, 10), 'image/webp')).toMatchObject({ ok: false });
    const bomb = Buffer.from(png);
    bomb.writeUInt32BE(100_000, 16);
    expect(checkLogo(bomb, 'image/png')).toMatchObject({ ok: false, reason: expect.stringContaining('100000×16') });
  });

});

describe('encoding a PNG', () => {
  it('makes RGB and RGBA images that pass as logos, with their pixels', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => i * 10);
    const png = encodePng(3, 2, rgba, { alpha: true });
    expect(checkLogo(png, 'image/png')).toMatchObject({ ok: true, image: { type: 'image/png', width: 3, height: 2 } });
    expect(png[25]).toBe(6); // colour type: RGBA
    // The IDAT chunk holds each row behind its filter byte (0).
    const idat = png.indexOf('IDAT');
    const rows = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    expect([...rows]).toEqual([0, ...rgba.subarray(0, 12), 0, ...rgba.subarray(12)]);
    expect(checkLogo(solidPng(16, [1, 2, 3]), 'image/png')).toMatchObject({ ok: true, image: { width: 16, height: 16 } });
    expect(() => encodePng(3, 2, new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('the placeholder of a missing logo', () => {
  it('is a 64 px SVG of the initials on the pages’ soft tile, or an empty tile', () => {
    const svg = placeholderLogo('ÉS').toString();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="64" height="64" viewBox="0 0 64 64">/);
    expect(svg).toContain('<rect width="64" height="64" fill="#f3f4f7"/>');
    expect(svg).toContain('fill="#4a4a55">ÉS</text>');
    expect(placeholderLogo('').toString()).not.toContain('<text');
    expect(placeholderLogo('ÉS').length).toBeLessThan(500);
  });

  it('escapes what it is given, and holds nothing active', () => {
    const svg = placeholderLogo('<&>').toString();
    expect(svg).toContain('>&lt;&amp;&gt;</text>');
    for (const active of ['<script', 'href', '<style', 'foreignObject', 'url(']) expect(svg).not.toContain(active);
  });
});

// The demo apps' logos, drawn by code when the sandbox is seeded: a white pictogram on a colour
// of its own for each app, 128 × 128 pixels, anti-aliased, as PNG. The demo apps' logoUrl points at
// hosts that do not exist, so the seed gives these to the platform directly (see seed.ts).
import { encodePng } from '@mes/catalog-api';

type Point = readonly [number, number];

/** A shape in a unit square (x right, y down): whether a point is inside. */
type Shape = (x: number, y: number) => boolean;

const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

const ellipse =
  (cx: number, cy: number, rx: number, ry: number): Shape =>
  (x, y) =>
    ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;

/** A line through `points` of half-width `w`, with round ends and joints. */
function line(points: readonly Point[], w: number): Shape {
  const segments = points.slice(1).map(([bx, by], i) => {
    const [ax, ay] = points[i]!;
    return { ax, ay, dx: bx - ax, dy: by - ay, length2: (bx - ax) ** 2 + (by - ay) ** 2 };
  });
  return (x, y) =>
    segments.some(({ ax, ay, dx, dy, length2 }) => {
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / length2));
      return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= w * w;
    });
}

/** A polygon (even-odd rule). */
function polygon(points: readonly Point[]): Shape {
  return (x, y) => {
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
      const [xi, yi] = points[i]!;
      const [xj, yj] = points[j]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((shape) => shape(x, y));

const minus =
  (shape: Shape, ...holes: Shape[]): Shape =>
  (x, y) =>
    shape(x, y) && !holes.some((hole) => hole(x, y));

type Rgb = readonly [number, number, number];

export interface DemoLogo {
  background: Rgb;
  /** The white pictogram. */
  shape: Shape;
}

const SIZE = 128;
/** Samples a pixel side on an edge: 4 × 4 per pixel smooth the edges. */
const SUBSAMPLES = 4;
const WHITE: Rgb = [255, 255, 255];

/** How much of pixel (px, py) the shape covers, from 0 to 1: sampled finely only where an edge crosses it. */
function coverage(shape: Shape, px: number, py: number): number {
  const at = (fx: number, fy: number) => shape((px + fx) / SIZE, (py + fy) / SIZE);
  const corners = [at(0, 0), at(1, 0), at(0, 1), at(1, 1), at(0.5, 0.5)];
  if (corners.every((inside) => inside === corners[0])) return corners[0] ? 1 : 0;
  let covered = 0;
  for (let sy = 0; sy < SUBSAMPLES; sy += 1) {
    for (let sx = 0; sx < SUBSAMPLES; sx += 1) if (at((sx + 0.5) / SUBSAMPLES, (sy + 0.5) / SUBSAMPLES)) covered += 1;
  }
  return covered / (SUBSAMPLES * SUBSAMPLES);
}

/** Draws a logo as an opaque RGB PNG of 128 × 128 pixels. */
export function drawLogo(logo: DemoLogo): Buffer {
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  for (let py = 0; py < SIZE; py += 1) {
    for (let px = 0; px < SIZE; px += 1) {
      const a = coverage(logo.shape, px, py);
      const offset = (py * SIZE + px) * 3;
      for (let c = 0; c < 3; c += 1) pixels[offset + c] = Math.round(logo.background[c]! * (1 - a) + WHITE[c]! * a);
    }
  }
  return encodePng(SIZE, SIZE, pixels);
}

/** A heart crossed by a pulse line: blood pressure readings. */
const heartbeat: DemoLogo = {
  background: [0x1f, 0x4e, 0x9c],
  shape: minus(
    union(circle(0.37, 0.4, 0.17), circle(0.63, 0.4, 0.17), polygon([[0.215, 0.46], [0.785, 0.46], [0.5, 0.8]])),
    line([[0.12, 0.55], [0.36, 0.55], [0.43, 0.42], [0.52, 0.68], [0.59, 0.55], [0.88, 0.55]], 0.035),
  ),
};

/** A shield with a check mark: protection by vaccination. */
const shield: DemoLogo = {
  background: [0x10, 0x6b, 0x55],
  shape: minus(
    polygon([[0.5, 0.16], [0.62, 0.22], [0.77, 0.25], [0.76, 0.47], [0.7, 0.63], [0.6, 0.75], [0.5, 0.83], [0.4, 0.75], [0.3, 0.63], [0.24, 0.47], [0.23, 0.25], [0.38, 0.22]]),
    line([[0.37, 0.49], [0.46, 0.59], [0.64, 0.39]], 0.045),
  ),
};

/** A drop: blood glucose. */
const drop: DemoLogo = {
  background: [0xa8, 0x32, 0x1c],
  shape: minus(union(circle(0.5, 0.6, 0.22), polygon([[0.5, 0.14], [0.3, 0.5], [0.7, 0.5]])), line([[0.4, 0.58], [0.43, 0.68]], 0.025)),
};

/** Two small footprints: a child's first steps. */
const footprint = (cx: number, cy: number): Shape =>
  union(ellipse(cx, cy, 0.09, 0.155), circle(cx - 0.065, cy - 0.195, 0.036), circle(cx, cy - 0.215, 0.04), circle(cx + 0.065, cy - 0.19, 0.034));
const footsteps: DemoLogo = {
  background: [0x6a, 0x3d, 0x9a],
  shape: union(footprint(0.35, 0.68), footprint(0.65, 0.45)),
};

/** A crescent moon and a star: sleep. */
const moon: DemoLogo = {
  background: [0x23, 0x30, 0x5e],
  shape: union(minus(circle(0.46, 0.52, 0.27), circle(0.58, 0.42, 0.23)), circle(0.72, 0.28, 0.035), circle(0.8, 0.46, 0.022)),
};

/** The pictograms of the demo apps, by the slug of their site. */
export const demoLogos = { heartbeat, shield, drop, footsteps, moon } as const;
export type DemoLogoName = keyof typeof demoLogos;

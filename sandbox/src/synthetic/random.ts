// The seeded randomness of the synthetic records: sfc32 over 32-bit integer arithmetic, seeded
// from a SHA-256 of the seed, so the same seed draws the same numbers on any machine.
import { createHash } from 'node:crypto';

/** √3: scales a sum of four uniforms (variance 1/3) to a standard deviation of 1. */
const SQRT3 = 1.7320508075688772;
const TWO_POW_32 = 4_294_967_296;

/**
 * A deterministic random stream. Only integer operations and + − × ÷ are used: transcendental
 * functions (Math.log, Math.cos…) are not guaranteed to round the same way on every engine, so
 * "normal" values are an Irwin–Hall approximation rather than Box–Muller.
 */
export class Random {
  /** The four words the stream started from: forks derive theirs from these and their label. */
  readonly #seed: readonly [number, number, number, number];
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  private constructor(seed: readonly [number, number, number, number]) {
    this.#seed = seed;
    [this.#a, this.#b, this.#c, this.#d] = seed;
    // sfc32's recommended warm-up: the first outputs still show the seed's structure.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** The stream of a seed: the first 128 bits of its SHA-256. */
  static fromSeed(seed: string): Random {
    const digest = createHash('sha256').update(seed, 'utf8').digest();
    return new Random([digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)]);
  }

  /**
   * An independent stream for one part (a household, a patient, a section of a record): drawing
   * more or fewer numbers in one part never shifts what another part draws. The child's seed
   * mixes this stream's seed with the label (cyrb128), not its current state, so a fork does not
   * depend on how much was drawn before it; a SHA-256 per fork would cost more than the records.
   */
  fork(label: string): Random {
    let [h1, h2, h3, h4] = this.#seed;
    for (let i = 0; i < label.length; i++) {
      const k = label.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597_399_067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2_869_860_233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951_274_213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2_716_044_179);
    }
    h1 = Math.imul(h3 ^ (h1 >>> 18), 597_399_067);
    h2 = Math.imul(h4 ^ (h2 >>> 22), 2_869_860_233);
    h3 = Math.imul(h1 ^ (h3 >>> 17), 951_274_213);
    h4 = Math.imul(h2 ^ (h4 >>> 19), 2_716_044_179);
    h1 ^= h2 ^ h3 ^ h4;
    h2 ^= h1;
    h3 ^= h1;
    h4 ^= h1;
    return new Random([h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]);
  }

  /** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator). */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): empty range`);
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + this.float() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** One of the items, each as likely as its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0);
    let left = this.float() * total;
    for (const [item, weight] of items) {
      left -= weight;
      if (left < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Roughly normal (Irwin–Hall of four uniforms): bounded to mean ± 3.46 sd, which suits vital signs. */
  normal(mean: number, sd: number): number {
    const sum = this.float() + this.float() + this.float() + this.float();
    return mean + (sum - 2) * SQRT3 * sd;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  /** `count` distinct integers of [min, max], in ascending order. */
  sample(min: number, max: number, count: number): number[] {
    const size = max - min + 1;
    if (count >= size) return Array.from({ length: Math.max(size, 0) }, (_, i) => min + i);
    // Floyd's algorithm: `count` draws whatever the size of the range.
    const chosen = new Set<number>();
    for (let j = size - count; j < size; j++) {
      const t = this.int(0, j);
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen].map((i) => min + i).sort((x, y) => x - y);
  }
}

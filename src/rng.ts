/**
 * The package's one seeded random number generator: SplitMix64 to expand the
 * seed, then xoshiro128** for the stream. Pure JavaScript, so a seed gives the
 * same numbers on every backend and machine (initial weights, shuffles,
 * augmentation, synthetic data).
 *
 * @example
 * ```ts
 * const rng = new Rng(1);
 * rng.uniform(); // a float in [0, 1)
 * ```
 */
export class Rng {
  #s = new Uint32Array(4);
  #spareNormal: number | null = null;

  constructor(seed: number) {
    let x = BigInt.asUintN(64, BigInt(Math.trunc(seed)));
    for (let i = 0; i < 2; i++) {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      z = z ^ (z >> 31n);
      this.#s[2 * i] = Number(z & 0xffffffffn);
      this.#s[2 * i + 1] = Number(z >> 32n);
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n > 0) || n > 2 ** 32) throw new RangeError(`Rng.int: bad range ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let v: number;
    do v = this.nextUint32(); while (v >= limit);
    return v % n;
  }

  /** A standard normal sample (Marsaglia's polar method). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const v = this.#spareNormal;
      this.#spareNormal = null;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt(-2 * Math.log(s) / s);
    this.#spareNormal = v * f;
    return u * f;
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** The generator's state, for checkpoints. */
  state(): number[] {
    return [...this.#s, this.#spareNormal ?? NaN];
  }

  /** Restores a state returned by {@linkcode Rng.state}. */
  setState(state: number[]): void {
    for (let i = 0; i < 4; i++) this.#s[i] = state[i];
    this.#spareNormal = Number.isNaN(state[4]) || state[4] === null ? null : state[4];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Eigendecomposition of a small real symmetric matrix in float64: Householder
 * reduction to tridiagonal form, then the implicit QL algorithm (the
 * EISPACK `tred2`/`tql2` pair as published in JAMA, public domain). O(n³) and
 * backward stable: each computed eigenvalue is within about n·ε·‖A‖₂ of an
 * exact one. The metrics use it on K × K Gram matrices (K = number of classes).
 *
 * @module
 */

/** Eigenvalues in ascending order and the matching orthonormal eigenvectors. */
export interface SymmetricEigen {
  /** [n] eigenvalues λ_0 ≤ λ_1 ≤ … ≤ λ_{n−1}. */
  values: Float64Array;
  /** [n, n] row-major; column j (entries `vectors[i * n + j]`) is the unit eigenvector of λ_j. */
  vectors: Float64Array;
}

/** Throws a RangeError unless `a` holds n × n finite numbers (n ≥ 1): what every eigensolver here is given. */
export function checkSymmetricInput(a: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 1 || a.length !== n * n) {
    throw new RangeError(`symmetricEigen: expected an ${n} × ${n} matrix, got ${a.length} entries`);
  }
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`symmetricEigen: non-finite entry at ${i}`);
  }
}

/**
 * Eigendecomposition A = V diag(λ) Vᵀ of a symmetric matrix A [n, n]
 * (row-major; only symmetry is assumed, the lower triangle is read).
 *
 * @example
 * ```ts
 * const { values } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * // values ≈ [1, 3]
 * ```
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  checkSymmetricInput(a, n);
  // v[i][j] as v[i * n + j]; start from the symmetric matrix (lower triangle mirrored).
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      v[i * n + j] = a[i * n + j];
      v[j * n + i] = a[i * n + j];
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // Both steps work on the transposed eigenvector matrix, whose rows are contiguous (3–5× faster at n = 1000).
  tred2(v, d, e, n);
  tql2(v, d, e, n);
  return { values: d, vectors: transpose(v, n) };
}

/**
 * Householder tridiagonalisation; on return d is the diagonal, e the
 * sub-diagonal, v the transform transposed. The input is symmetric, so the
 * algorithm runs on the transposed layout: its inner loops, which walk down
 * columns, then read contiguous memory.
 */
function tred2(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[j * n + i - 1];
        v[j * n + i] = 0;
        v[i * n + j] = 0;
      }
    } else {
      // Generate the Householder vector, scaled to avoid under/overflow.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[i * n + j] = f;
        g = e[j] + v[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[j * n + k] * d[k];
          e[k] += v[j * n + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[j * n + k] -= f * e[k] + g * d[k];
        d[j] = v[j * n + i - 1];
        v[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[i * n + n - 1] = v[i * n + i];
    v[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[(i + 1) * n + k] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[(i + 1) * n + k] * v[j * n + k];
        for (let k = 0; k <= i; k++) v[j * n + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[j * n + n - 1];
    v[j * n + n - 1] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
  return t;
}

/**
 * Implicit QL iterations on the tridiagonal (d, e); accumulates rotations into
 * w, the transposed eigenvector matrix (row i is eigenvector i); sorts ascending.
 */
function tql2(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small sub-diagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    // m === l: d[l] is already an eigenvalue; otherwise iterate.
    if (m > l) {
      let iter = 0;
      do {
        // QL converges cubically; a cap turns a (theoretically impossible) stall into an error, not a hang.
        if (++iter > 100) throw new Error("symmetricEigen: QL iteration did not converge");
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Implicit QL transformation.
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const r0 = i * n;
          const r1 = r0 + n;
          for (let k = 0; k < n; k++) {
            h = w[r1 + k];
            w[r1 + k] = s * w[r0 + k] + c * h;
            w[r0 + k] = c * w[r0 + k] - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // Selection sort of eigenvalues (and vector columns) into ascending order.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = w[i * n + j];
        w[i * n + j] = w[k * n + j];
        w[k * n + j] = t;
      }
    }
  }
}

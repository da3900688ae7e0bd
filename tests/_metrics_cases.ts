/** Hand-built metric inputs with closed-form answers, shared by the metrics tests. */

/**
 * K = 3 class means on a circle of radius r at 90°, 210°, 330° (a simplex
 * ETF in the plane), two samples per class at ±s along x, and the classifier
 * rows pointing at the means. Σ_B = (r²/2) I and Σ_W = diag(s², 0), so
 * NC1 = 2s²/(3r²); every sample is classified correctly.
 */
export function etfPlaneWithNoise(r: number, s: number): { features: Float64Array; labels: number[]; w: Float64Array } {
  const features: number[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    const a = Math.PI / 2 + (2 * Math.PI * c) / 3;
    for (const sign of [1, -1]) {
      features.push(r * Math.cos(a) + sign * s, r * Math.sin(a));
      labels.push(c);
    }
  }
  const w = new Float64Array([
    0,
    1,
    Math.cos(7 * Math.PI / 6),
    Math.sin(7 * Math.PI / 6),
    Math.cos(-Math.PI / 6),
    -0.5,
  ]);
  return { features: new Float64Array(features), labels, w };
}

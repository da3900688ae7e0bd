/** SVG string helpers shared by the renderer and the report (private to `src/plot/`). */

/** Escapes text for XML element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A rough width of `text` in pixels at `fontSize` (DejaVu Sans averages ~0.6 em per character). */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.6;
}

/** Fonts tried in order: DejaVu Sans is what the PNG renderer finds on Debian; browsers fall back further. */
export const FONT_FAMILY = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

/** SVG markup of a point marker of radius `r` centred at (cx, cy); shapes follow Observable Plot's symbols. */
export function markerSvg(marker: string, cx: number, cy: number, r: number, fill: string): string {
  const pts = (list: [number, number][]): string =>
    `<path d="M${list.map(([x, y]) => `${(cx + x * r).toFixed(2)},${(cy + y * r).toFixed(2)}`).join("L")}Z" ` +
    `fill="${fill}" stroke="white" stroke-width="0.8"/>`;
  switch (marker) {
    case "circle":
      return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}" stroke="white" stroke-width="0.8"/>`;
    case "square":
      return pts([[-0.9, -0.9], [0.9, -0.9], [0.9, 0.9], [-0.9, 0.9]]);
    case "triangle":
      return pts([[0, -1.2], [1.05, 0.7], [-1.05, 0.7]]);
    case "diamond":
      return pts([[0, -1.25], [0.8, 0], [0, 1.25], [-0.8, 0]]);
    case "star": {
      const list: [number, number][] = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 === 0 ? 1.25 : 0.5;
        list.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return pts(list);
    }
    default: {
      // cross, wye, times: strokes only.
      const d = marker === "times"
        ? `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx - r},${cy + r}L${cx + r},${cy - r}`
        : `M${cx - r},${cy}L${cx + r},${cy}M${cx},${cy - r}L${cx},${cy + r}`;
      return `<path d="${d}" stroke="${fill}" stroke-width="2" fill="none"/>`;
    }
  }
}

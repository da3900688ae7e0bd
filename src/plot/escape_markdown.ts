/**
 * Text from run folders (dataset, model, loss, titles) as literal Markdown,
 * for `report.md` and the sections other parts add to it.
 *
 * @module
 */

/**
 * `text` as literal Markdown text: line breaks become spaces, and every
 * character that could start markup (emphasis, code, links and images
 * through their brackets, table cells, raw HTML, entities) is
 * backslash-escaped, so that a dataset named
 * `<svg onload=alert(1)>` is shown, not run, by any Markdown viewer. An
 * underscore inside a word (`wide_resnet50`) is left alone: it never starts
 * emphasis.
 *
 * @example
 * ```ts
 * escapeMarkdown("<b>x</b> | *y*"); // "\\<b\\>x\\</b\\> \\| \\*y\\*"
 * ```
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, " ")
    .replace(/[\\`*[\]<>&|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, (c) => `\\${c}`);
}

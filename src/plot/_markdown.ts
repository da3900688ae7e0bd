/**
 * A small Markdown-to-HTML converter for the report's sections (private to
 * `src/plot/`): headings, paragraphs, `-`/`*`/`1.` lists, fenced code, pipe
 * tables, inline code, bold, italics, links and backslash escapes. Enough for
 * the text that the package's own parts write; anything else passes through
 * as escaped text. `escapeMarkdown` (in `escape_markdown.ts`) makes text from
 * run folders literal in Markdown.
 */
import { escapeXml } from "./_svg.ts";

/** The ASCII punctuation Markdown lets a backslash make literal. */
const ESCAPED = /\\([!-/:-@[-`{-~])/g;
/** Where an escaped character waits, out of the way of the inline rules: a private-use code point. */
const PLACEHOLDER = 0xe000;

function inline(text: string): string {
  // Escaped characters step aside while the rules run, then come back as plain (XML-escaped) text.
  const held = text.replace(ESCAPED, (_, c: string) => String.fromCharCode(PLACEHOLDER + c.charCodeAt(0)));
  const release = (html: string): string =>
    html.replace(/[\ue000-\ue07f]/g, (c) => escapeXml(String.fromCharCode(c.charCodeAt(0) - PLACEHOLDER)));
  // Code spans first, so their contents are not read as emphasis.
  const parts = held.split(/(`[^`]+`)/);
  return parts.map((part) => {
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) {
      return `<code>${release(escapeXml(part.slice(1, -1)))}</code>`;
    }
    return release(
      escapeXml(part)
        .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>'),
    );
  }).join("");
}

function splitRow(line: string): string[] {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((c) =>
    c.trim().replace(/\\\|/g, "|")
  );
}

/** Converts `markdown` to an HTML fragment. */
export function markdownToHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (line.startsWith("```")) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].startsWith("```")) code.push(lines[i++]);
      i++;
      out.push(`<pre><code>${escapeXml(code.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (line.trim().startsWith("|") && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
      const head = splitRow(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].trim().startsWith("|")) rows.push(splitRow(lines[i++]));
      out.push(
        `<table><thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join("")}</tr></thead><tbody>` +
          rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("") +
          `</tbody></table>`,
      );
      continue;
    }
    const bullet = /^\s*([-*]|\d+\.)\s+/;
    if (bullet.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      while (i < lines.length && bullet.test(lines[i])) items.push(lines[i++].replace(bullet, ""));
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((t) => `<li>${inline(t)}</li>`).join("")}</${tag}>`);
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length && lines[i].trim() !== "" && !lines[i].startsWith("```") && !/^#{1,6}\s/.test(lines[i]) &&
      !bullet.test(lines[i]) && !lines[i].trim().startsWith("|")
    ) para.push(lines[i++]);
    if (para.length === 0) para.push(lines[i++]);
    out.push(`<p>${inline(para.join(" "))}</p>`);
  }
  return out.join("\n");
}

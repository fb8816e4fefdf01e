// TypeDoc plugin: TeX in TSDoc comments ($…$ inline, $$…$$ display) renders on the API pages as it does
// in the guides. typedoc-plugin-markdown's `sanitizeComments` escapes `{ } < >` in comment text so Vue
// does not read them as template syntax; that also breaks TeX (`L_{i,t}` arrives as `L_\{i,t\}`). This
// undoes the escaping inside math only, after each page is rendered. VitePress (`markdown.math`) then
// turns the math into SVG at build time, so the braces never reach Vue.
//
// TSDoc itself unescapes `\{` `\}` `\@` in comments, so write `\lbrace` `\rbrace` for literal braces in TeX.
import { MarkdownPageEvent } from 'typedoc-plugin-markdown';

// Fenced code, inline code, display math, then inline math (no space just inside the dollars, one line).
const SEGMENTS = /(```[\s\S]*?```|~~~[\s\S]*?~~~|`[^`\n]*`)|(\$\$[\s\S]+?\$\$)|(\$(?![\s$])[^$\n]*?[^\s\\$]\$|\$[^\s$\\]\$)/g;

/**
 * The page's markdown with the sanitizer's backslashes before `{ } < >` removed inside `$…$` and
 * `$$…$$`; code and text outside math are returned unchanged.
 * @param {string} markdown
 * @returns {string}
 */
export function unescapeMath(markdown) {
  return markdown.replace(SEGMENTS, (match, code) => (code ? match : match.replace(/\\([{}<>])/g, '$1')));
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.on(MarkdownPageEvent.END, (page) => {
    if (page.contents) page.contents = unescapeMath(page.contents);
  });
}

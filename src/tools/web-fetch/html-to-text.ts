import { Tokenizer, type TokenizerCallbacks } from "htmlparser2";

/** Elements whose content is not page text. */
const SKIPPED = new Set(["script", "style", "noscript", "template"]);

/** Elements that start a new line of text. */
const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "br",
  "caption",
  "dd",
  "details",
  "dialog",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "li",
  "main",
  "nav",
  "ol",
  "p",
  "pre",
  "section",
  "summary",
  "table",
  "title",
  "tr",
  "ul",
]);

/** Elements that only need a space between them (table cells). */
const SEPARATED = new Set(["td", "th"]);

/**
 * Readable text of an HTML page: script, style, noscript and template contents dropped, entities
 * decoded, block elements on lines of their own, whitespace collapsed.
 *
 * Runs on htmlparser2's Tokenizer, a state machine that reads each character once, so the time is
 * linear in the page's size whatever it holds. Its Parser is not used: it keeps a stack of open
 * elements and searches it for every end tag, which is quadratic on deep unclosed nesting.
 */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  // Nesting depth inside skipped elements; text counts only at depth 0.
  let skipDepth = 0;
  const tagName = (start: number, end: number) => html.slice(start, end).toLowerCase();
  // Source line breaks are just whitespace; only block elements make lines.
  const addText = (text: string) => {
    if (skipDepth === 0) parts.push(text.replace(/\s+/g, " "));
  };
  const addBoundary = (name: string) => {
    if (skipDepth > 0) return;
    if (BLOCKS.has(name)) parts.push("\n");
    else if (SEPARATED.has(name)) parts.push(" ");
  };
  const ignore = () => {};
  const callbacks: TokenizerCallbacks = {
    ontext: (start, end) => addText(html.slice(start, end)),
    ontextentity: (codePoint) => addText(String.fromCodePoint(codePoint)),
    onopentagname: (start, end) => {
      const name = tagName(start, end);
      addBoundary(name);
      if (SKIPPED.has(name)) skipDepth++;
    },
    onclosetag: (start, end) => {
      const name = tagName(start, end);
      if (SKIPPED.has(name) && skipDepth > 0) skipDepth--;
      addBoundary(name);
    },
    // Attributes, comments, CDATA, doctypes and processing instructions carry no page text.
    onattribdata: ignore,
    onattribentity: ignore,
    onattribend: ignore,
    onattribname: ignore,
    oncdata: ignore,
    oncomment: ignore,
    ondeclaration: ignore,
    onend: ignore,
    onopentagend: ignore,
    onprocessinginstruction: ignore,
    onselfclosingtag: ignore,
  };
  const tokenizer = new Tokenizer({ xmlMode: false, decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
  return parts
    .join("")
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => line !== "")
    .join("\n");
}

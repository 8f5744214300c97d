import { describe, expect, it } from "vitest";
import { htmlToText } from "./html-to-text.js";

/** Runs htmlToText and how long it took; a quadratic pass over 200 KB takes tens of seconds. */
const timed = (html: string): { text: string; ms: number } => {
  const started = performance.now();
  const text = htmlToText(html);
  return { text, ms: performance.now() - started };
};

describe("htmlToText", () => {
  it("turns HTML into readable text", () => {
    expect(htmlToText("<html><script>x()</script><p>Hello&nbsp;<b>world</b> &amp; more</p></html>")).toBe(
      "Hello world & more",
    );
  });

  it("drops script, style, noscript and template contents, even when unbalanced or self-closed", () => {
    const html = [
      "<style>p { color: red }</style>",
      "<noscript><p>enable JavaScript</p></noscript>",
      "<template><p>row <template>nested</template> template</p></template>",
      "<script/>if (a < b) document.write('</p>hidden')</script>",
      "</noscript>",
      "<p>shown</p>",
      "<SCRIPT type=module>never closed <p>hidden",
    ].join("");
    expect(htmlToText(html)).toBe("shown");
  });

  it("puts block elements on lines of their own, keeps inline ones in the line, collapses whitespace", () => {
    const html = `<title>Page</title><h1>Heading</h1>
      <p>one   two
      three<br>after a <i>br</i>eak</p><ul><li>first</li><li>second</li></ul>
      <table><tr><th>k</th><td>v</td></tr><tr><td>x</td><td>y</td></tr></table>`;
    expect(htmlToText(html)).toBe("Page\nHeading\none two three\nafter a break\nfirst\nsecond\nk v\nx y");
  });

  it("decodes named and numeric entities, and leaves unknown ones and stray brackets as text", () => {
    expect(htmlToText("&lt;b&gt; &copy; &#x1F600; &#65; &bogus; 1 < 2 &#10;x")).toBe(
      "<b> © 😀 A &bogus; 1 < 2 x",
    );
  });

  it("drops comments, doctypes and attributes", () => {
    expect(htmlToText(`<!DOCTYPE html><!-- note --><a href="x&amp;y" title='t'>link</a>`)).toBe("link");
  });

  // Each of these took seconds to tens of seconds with regular expressions or a stack-searching parser.
  it.each([
    ["200 KB of '<'", "<".repeat(200_000), "<".repeat(200_000)],
    ["an unclosed tag of 70,000 attributes", "<a ".repeat(70_000), ""],
    ["an unclosed comment", `<!--${"x".repeat(200_000)}`, ""],
    ["50,000 comment openers", "<!--".repeat(50_000), ""],
    ["25,000 script openers", "<script>".repeat(25_000), ""],
    ["an unclosed attribute value", `<a b='${"x".repeat(200_000)}`, ""],
    ["deep nesting closed by other tags", `${"<div>".repeat(20_000)}${"</span>".repeat(20_000)}`, ""],
    ["200 KB of '&'", "&".repeat(200_000), "&".repeat(200_000)],
  ])("handles %s in linear time", (_name, html, expected) => {
    const { text, ms } = timed(html);
    expect(text).toBe(expected);
    // Generous for a busy machine; the quadratic versions took 1 s to 25 s.
    expect(ms).toBeLessThan(2_000);
  });
});

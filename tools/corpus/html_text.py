"""HTML -> plain text for documentation pages (Sphinx, AsciiDoc, SQLite docs).

Keeps the reading order and the paragraph structure, preserves <pre> blocks
verbatim (code examples matter for a code-reading model), and drops page
chrome (navigation bars, sidebars, footers, scripts, permalink markers)
that would otherwise repeat on every page and teach the model nothing.
Standard library only.
"""
from html.parser import HTMLParser
import re

# Elements whose whole content is dropped.
_SKIP_TAGS = {"script", "style", "head", "nav", "noscript", "svg", "form", "button"}
# class / id values that mark page chrome in the generators we read.
_SKIP_CLASSES = {
    "sphinxsidebar", "related", "footer", "headerlink", "breadcrumbs",
    "navigation", "toc", "contents", "searchbox", "sidebar", "nav", "menu",
}
_SKIP_IDS = {"footer", "toc", "toctitle", "footer-text", "sidebar", "navigation"}
# Elements that start a new paragraph.
_BLOCK_TAGS = {
    "p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "dl", "table", "blockquote", "pre", "hr", "figure", "tr",
    "center", "caption",
}
# Elements that start a new line inside a paragraph.
_LINE_TAGS = {"li", "dt", "dd", "br", "td", "th"}
# Elements that never have a closing tag.
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col",
              "embed", "param", "source", "track", "wbr"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []        # output fragments
        self.stack = []        # (tag, skipping_started_here)
        self.skip_depth = 0    # >0 while inside dropped content
        self.pre_depth = 0     # >0 while inside <pre>

    def _is_chrome(self, tag, attrs):
        if tag in _SKIP_TAGS:
            return True
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        if classes & _SKIP_CLASSES:
            return True
        if (attr.get("id") or "") in _SKIP_IDS:
            return True
        return attr.get("role") == "navigation"

    def handle_starttag(self, tag, attrs):
        chrome = self._is_chrome(tag, attrs)
        if tag not in _VOID_TAGS:
            self.stack.append((tag, chrome))
            if chrome:
                self.skip_depth += 1
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth += 1
        if tag in _BLOCK_TAGS:
            self._break("\n\n")
        elif tag in _LINE_TAGS:
            self._break("\n- " if tag == "li" else "\n")

    def handle_startendtag(self, tag, attrs):
        if not self.skip_depth and (tag in _LINE_TAGS or tag in _BLOCK_TAGS):
            self._break("\n")

    def handle_endtag(self, tag):
        # Pop up to the matching open tag; tolerate unclosed inner tags.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for open_tag, chrome in self.stack[i:]:
                    if chrome:
                        self.skip_depth -= 1
                    elif open_tag == "pre" and self.pre_depth:
                        self.pre_depth -= 1
                del self.stack[i:]
                break
        else:
            return
        if not self.skip_depth and tag in _BLOCK_TAGS:
            self._break("\n\n")

    def _break(self, marker):
        # A paragraph opening right after a list bullet stays on the bullet's line.
        for part in reversed(self.parts):
            if part == "\n- ":
                return
            if part.strip(" \n"):
                break
        self.parts.append(marker)

    def handle_data(self, data):
        if self.skip_depth:
            return
        if self.pre_depth:
            self.parts.append(data.replace("\r\n", "\n"))
        else:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Returns the readable text of an HTML page, paragraphs separated by blank lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\u00b6", "")  # Sphinx permalink pilcrows
    lines = [line.rstrip() for line in text.split("\n")]
    out, blank = [], 0
    for line in lines:
        if line.strip():
            # Lines outside <pre> were whitespace-collapsed; strip the leading
            # single space that collapsing leaves after a block break.
            line = line[1:] if line.startswith(" ") and not line.startswith("  ") else line
            out.append(re.sub(r"^- +", "- ", line))
            blank = 0
        else:
            blank += 1
            if blank == 1:
                out.append("")
    return "\n".join(out).strip() + "\n"


if __name__ == "__main__":
    import sys
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        sys.stdout.write(html_to_text(f.read()))

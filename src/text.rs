//! Untrusted text on its way out: names and cells read from data files (or a
//! shard's summary) are echoed in error lines, tables, progress lines and
//! Markdown reports. This module owns making such text harmless there:
//!
//! * [`escape`]: control characters (newlines, CR, tabs, ESC, DEL, C1) and
//!   the bidirectional-override characters shown as visible escapes
//!   (`\n`, `\u{1b}`), so an ANSI or OSC escape sequence can neither clear
//!   the screen nor retitle the window, a newline never splits a line, and
//!   text never reads backwards;
//! * [`for_terminal`]: the same, cut to at most [`MAX_ECHO_CHARS`]
//!   characters (a 10 MB cell gives a short line);
//! * [`quoted`]: the same inside single quotes, for error messages;
//! * [`markdown_inline`]: text placed into Markdown as literal text (no
//!   HTML, no links, no emphasis), for report.md.
//!
//! Hand-written: each is a few lines over `char`s, and no crate does exactly
//! "escape terminal control characters and truncate" without pulling in a
//! terminal library.

/// Longest echo of an untrusted value; longer ones end in `...`.
pub const MAX_ECHO_CHARS: usize = 80;

/// Whether `c` must not reach a terminal as it is: a control character, or
/// a bidirectional embedding, override or isolate (U+202A..U+202E,
/// U+2066..U+2069), which reorders what follows it.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Pushes `s` escaped onto `out`, stopping after `limit` characters of `s`
/// (then `...`).
fn push_escaped(out: &mut String, s: &str, limit: usize) {
    for (shown, c) in s.chars().enumerate() {
        if shown >= limit {
            out.push_str("...");
            break;
        }
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// `s` with every control or bidi-override character as a visible escape
/// (`\n`, `\r`, `\t`, `\u{1b}`...), whole: for machine-readable output
/// (the `regions --csv` table) and the final error line, which must stay one
/// line but need not be short.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s, usize::MAX);
    out
}

/// `s` made safe to print on a terminal as part of one line: [`escape`]d
/// and cut to [`MAX_ECHO_CHARS`] characters (then `...`).
pub fn for_terminal(s: &str) -> String {
    let mut out = String::new();
    push_escaped(&mut out, s, MAX_ECHO_CHARS);
    out
}

/// `'value'`, made safe with [`for_terminal`]: how error lines echo a cell
/// or a name from a file.
pub fn quoted(s: &str) -> String {
    format!("'{}'", for_terminal(s))
}

/// `s` as literal Markdown inline text: every character Markdown (or the
/// HTML it allows) gives a meaning is backslash-escaped or entity-encoded,
/// so a region named `<script>` or `[x](javascript:...)` shows as written
/// and never becomes markup. Newlines and other control characters become
/// spaces (a name never spans lines).
pub fn markdown_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Emphasis, code, links/images (`[`), headings, table cells.
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Elements a plot may use; nothing that runs code, loads anything, or
/// embeds other markup (`script`, `foreignObject`, `image`, `use`, `a`,
/// `style`, `animate`... are absent).
const SVG_ELEMENTS: &[&str] = &[
    "svg", "g", "rect", "polyline", "polygon", "path", "circle", "ellipse", "line", "text",
    "tspan", "title", "desc", "defs", "clipPath",
];

/// Attributes a plot may use; no event handlers (`on*`), no links (`href`).
const SVG_ATTRIBUTES: &[&str] = &[
    "width",
    "height",
    "viewBox",
    "xmlns",
    "version",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "points",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "fill-opacity",
    "stroke-opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "transform",
    "class",
    "id",
    "clip-path",
    "preserveAspectRatio",
];

/// Whether `svg` is a plain drawing: every tag an allowed element with
/// allowed attributes whose values hold no markup, no `javascript:` and no
/// external `url(...)`, and no comments, processing instructions, CDATA or
/// entity declarations. An allowlist rather than stripping known-bad parts:
/// the thumbnails seird-fit writes pass, anything else is not pasted into a
/// page.
pub fn is_plain_svg(svg: &str) -> bool {
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('>') else {
            return false;
        };
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let tag = tag.strip_suffix('/').unwrap_or(tag);
        let (name, mut attrs) = match tag.find(|c: char| c.is_whitespace()) {
            Some(i) => (&tag[..i], &tag[i..]),
            None => (tag, ""),
        };
        if !SVG_ELEMENTS.contains(&name) {
            return false;
        }
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let Some(eq) = attrs.find('=') else {
                return false;
            };
            let key = attrs[..eq].trim();
            if !SVG_ATTRIBUTES.contains(&key) {
                return false;
            }
            let after = attrs[eq + 1..].trim_start();
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                return false;
            };
            let Some(end) = after[1..].find(quote) else {
                return false;
            };
            let value = after[1..1 + end].to_ascii_lowercase();
            let external_url = value
                .match_indices("url(")
                .any(|(i, _)| !value[i + 4..].trim_start().starts_with('#'));
            if value.contains(['<', '&']) || value.contains("javascript:") || external_url {
                return false;
            }
            attrs = &after[1 + end + 1..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_has_no_escapes_no_newlines_and_a_bounded_length() {
        assert_eq!(for_terminal("Italy"), "Italy");
        assert_eq!(for_terminal("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            for_terminal("a\u{1b}]0;pwned\u{7}b"),
            "a\\u{1b}]0;pwned\\u{7}b"
        );
        assert_eq!(for_terminal("two\nlines\r"), "two\\nlines\\r");
        assert_eq!(for_terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        let long = "x".repeat(10_000_000);
        assert_eq!(for_terminal(&long).len(), MAX_ECHO_CHARS + 3);
        assert_eq!(escape(&long).len(), long.len());
        assert_eq!(quoted("日本"), "'日本'");
        assert!(!for_terminal("\u{9b}31m").contains('\u{9b}'));
        for s in [for_terminal("\u{1b}\n\r\t\u{7f}\u{85}"), escape("\u{1b}\n")] {
            assert!(!s.chars().any(needs_escape), "{s}");
        }
    }

    #[test]
    fn only_plain_svg_drawings_pass() {
        let ok = "<svg width=\"240\" height=\"150\" viewBox=\"0 0 240 150\" xmlns=\"http://www.w3.org/2000/svg\">\n\
                  <rect x=\"0\" y=\"0\" fill=\"#FFFFFF\" stroke=\"none\"/>\n\
                  <polyline fill=\"none\" points=\"7,145 14,145 \"/>\n</svg>\n";
        assert!(is_plain_svg(ok));
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg onload=\"alert(1)\"></svg>",
            "<svg><a href=\"javascript:alert(1)\"><rect/></a></svg>",
            "<svg><foreignObject><iframe/></foreignObject></svg>",
            "<svg><rect fill=\"url(http://evil/x)\"/></svg>",
            "<svg><!-- --><rect/></svg>",
            "<svg><rect x=1/></svg>",
            "<svg><image xlink:href=\"x\"/></svg>",
            "<svg><rect",
        ] {
            assert!(!is_plain_svg(bad), "{bad}");
        }
    }

    #[test]
    fn markdown_text_cannot_become_markup() {
        let m = markdown_inline("<script>alert(1)</script>[x](javascript:alert(1))");
        assert!(!m.contains('<') && m.contains("\\[x\\]("), "{m}");
        assert_eq!(markdown_inline("Korea, South"), "Korea, South");
        assert_eq!(markdown_inline("a\nb"), "a b");
    }
}

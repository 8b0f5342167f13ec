//! `report.html`: the region's `report.md` rendered to one self-contained
//! page (the plot embedded as a `data:` URI, inline CSS, nothing fetched),
//! so a browser shows the report with its plot where it shows `report.md`
//! as raw text.
//!
//! Rendering is pulldown-cmark's (CommonMark with tables). Raw HTML in the
//! Markdown is shown as text, not passed through: region names come from
//! data files, and a name must never become markup.

use base64::Engine as _;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1240px; margin: 1.5rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; }
th { background: #f3f5f8; }
td:nth-child(2) { white-space: nowrap; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"#;

/// Renders `markdown` as a whole HTML page titled `title`; an image whose
/// address is `embed.0` is replaced by `embed.1`'s bytes as a PNG `data:`
/// URI.
pub fn render_page(title: &str, markdown: &str, embed: Option<(&str, &[u8])>) -> String {
    let data_uri = embed.map(|(name, bytes)| {
        (
            name,
            format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ),
        )
    });
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|ev| match ev {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = match &data_uri {
                Some((name, uri)) if dest_url.as_ref() == *name => CowStr::from(uri.clone()),
                _ => dest_url,
            };
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            })
        }
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut body = String::new();
    html::push_html(&mut body, events);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        super::index::escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_a_page_with_the_image_embedded_and_no_raw_html() {
        let md = "# Fit: <b>x</b>\n\n![plot](forecast.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let page = render_page("Fit: <x>", md, Some(("forecast.png", b"\x89PNG")));
        assert!(page.contains("<title>Fit: &lt;x&gt;</title>"));
        assert!(
            page.contains("src=\"data:image/png;base64,iVBORw==\""),
            "{page}"
        );
        assert!(page.contains("<table>") && page.contains("<td>2</td>"));
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("<b>x</b>"));
    }
}

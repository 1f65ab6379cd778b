//! HTML for pages people open in a browser (`ceremony status --html`). Every piece of text
//! from a repository (role and key names, holders, transcript entries) is hostile: it goes
//! through [`escape`], the one escaping helper. [`Html`] takes markup only as
//! `&'static str`, so text read at run time can reach the page only escaped.

use std::fmt::Write as _;

/// `text` with `& < > " '` replaced by entities: safe inside elements and inside quoted
/// attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML fragment being written.
#[derive(Debug, Default)]
pub struct Html {
    buf: String,
}

impl Html {
    pub fn new() -> Self {
        Html::default()
    }

    /// Markup written as is: only text fixed at compile time.
    pub fn markup(&mut self, markup: &'static str) -> &mut Self {
        self.buf.push_str(markup);
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.buf.push_str(&escape(text));
        self
    }

    /// `<tag a="v"...>`, each value escaped.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        for (name, value) in attrs {
            // Writing to a String cannot fail.
            let _ = write!(self.buf, " {name}=\"{}\"", escape(value));
        }
        self.buf.push('>');
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag ...>text</tag>`.
    pub fn element(&mut self, tag: &'static str, attrs: &[(&'static str, &str)], text: &str) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// A whole document: language, character set, a viewport for phones, the title, one
    /// inline style sheet (nothing is fetched: the page works offline and from `file://`)
    /// and `body`.
    pub fn document(lang: &'static str, title: &str, css: &'static str, body: Html) -> String {
        let mut page = Html::new();
        page.markup("<!DOCTYPE html>\n")
            .open("html", &[("lang", lang)])
            .markup("<head><meta charset=\"utf-8\">")
            .markup("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            // No script, no request: a reader's browser enforces what the page promises.
            .markup("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
            .element("title", &[], title)
            .markup("<style>")
            .markup(css)
            .markup("</style></head>\n<body>");
        page.buf.push_str(&body.buf);
        page.markup("</body></html>\n");
        page.buf
    }
}

/// The style every page shares (`ceremony status --html`, `mirror status --html`, `/_status`): readable on a phone (tables keep their columns and scroll sideways
/// inside their own box rather than breaking words; the rest of the text wraps),
/// printable (no backgrounds needed to tell states apart: each also says it in words), and
/// colours with at least 4.5:1 contrast.
pub const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1a1a1a;background:#fff;line-height:1.45}p,li,caption,h1,h3{overflow-wrap:anywhere}\
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.3rem;margin-top:2rem;border-bottom:2px solid #444;padding-bottom:.2rem}h3{font-size:1.1rem;margin-top:1.4rem}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.5rem 0}\
caption{text-align:left;font-weight:600;padding:.3rem 0}\
th,td{border:1px solid #888;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#eee}\
time{white-space:nowrap}code{font-family:ui-monospace,monospace;font-size:.9em}\
.ok{background:#e3f4e8;color:#0b4d1f}.due{background:#fff1c2;color:#4d3800}.bad{background:#fde4e6;color:#7d0f1c}\
pre.diff{overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f4;padding:.5rem;margin:.3rem 0}.add{color:#0a5c1e}.del{color:#8a0a1e}.chg{color:#5c3b00}summary{cursor:pointer}\
.problem{border-left:6px solid #a3122a;background:#fde4e6;color:#5c0a14;padding:.5rem .8rem;margin:.6rem 0}\
.muted{color:#4a4a4a}\
\
.tl{position:relative;height:1.2rem;min-width:12rem;border-left:1px solid #888;border-right:1px solid #888}\
.tl .bar{position:absolute;top:.3rem;height:.5rem;background:#1f4e79;border:1px solid #1f4e79}.tl .open{border-right:4px double #1f4e79}\
.tl .now{position:absolute;top:0;bottom:0;border-left:2px solid #a3122a}\
@media (max-width:40rem){body{padding:.5rem}th,td{padding:.25rem .3rem}h1{font-size:1.3rem}}\
@media print{body{max-width:none}.scroll{overflow:visible}h2{page-break-after:avoid}tr{page-break-inside:avoid}}";

// Pieces every page is made of, so the pages look and read alike.

pub fn problem(b: &mut Html, text: &str) {
    b.open("p", &[("class", "problem"), ("role", "note")])
        .markup("<strong>Problem:</strong> ")
        .text(text)
        .close("p");
}

/// A table in a box of its own that scrolls sideways on a narrow screen (focusable, so
/// the keyboard can scroll it too).
pub fn table_start(b: &mut Html, label: &str, caption: &str, headers: &[&'static str]) {
    b.open(
        "div",
        &[
            ("class", "scroll"),
            ("tabindex", "0"),
            ("role", "region"),
            ("aria-label", label),
        ],
    )
    .markup("<table>")
    .element("caption", &[], caption)
    .markup("<thead><tr>");
    for h in headers {
        b.markup("<th scope=\"col\">").markup(h).markup("</th>");
    }
    b.markup("</tr></thead><tbody>");
}

pub fn table_end(b: &mut Html) {
    b.markup("</tbody></table></div>");
}

pub fn date(b: &mut Html, rfc3339: &str) {
    // The date first (what people read), the full time in the element's datetime.
    let day = rfc3339.get(..10).unwrap_or(rfc3339);
    b.element("time", &[("datetime", rfc3339)], day);
}

/// The cells every role table starts with (the signing repository's and the mirror's):
/// `<tr>`, the role as the row header, its version, its expiry and its state in a cell of
/// class `class` (`ok`, `due`, `bad`). The row is left open for the table's own cells.
pub fn role_row_start(b: &mut Html, role: &str, version: u64, expires: &str, class: &'static str, state: &str) {
    b.open("tr", &[("data-role", role)])
        .open("th", &[("scope", "row")])
        .text(role)
        .close("th")
        .element("td", &[], &version.to_string())
        .open("td", &[("data-expires", expires)]);
    date(b, expires);
    b.markup("</td>").element("td", &[("class", class)], state);
}

pub fn days(n: i64) -> String {
    match n {
        0 => "today".into(),
        1 => "in 1 day".into(),
        -1 => "1 day ago".into(),
        n if n > 0 => format!("in {n} days"),
        n => format!("{} days ago", -n),
    }
}

#[cfg(test)]
mod tests {
    use super::{Html, escape};

    #[test]
    fn every_character_that_could_open_markup_or_close_an_attribute_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert('x')</script> "&""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;&amp;&quot;"
        );
        let mut h = Html::new();
        h.element("td", &[("data-name", "\"><img src=x onerror=alert(1)>")], "<b>");
        assert_eq!(
            Html::document("en", "t", "", h),
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>t</title><style></style></head>\n<body><td data-name=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">&lt;b&gt;</td></body></html>\n"
        );
    }
}

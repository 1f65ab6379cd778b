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

//! The HTML page's frame: escaping, tables and the self-contained document
//! (inline CSS, no script, no external resource) that holds the sections.

use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// A table of plain-text cells (escaped here).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", escape(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// One part of the page; `body` is HTML.
#[derive(Debug, Clone)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub body: String,
}

const STYLE: &str =
    "body{font-family:sans-serif;margin:2em auto;max-width:1320px;padding:0 1em;color:#222}\
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\
.meta{color:#666}nav a{margin-right:1.2em}\
table{border-collapse:collapse;margin:.8em 0;font-size:13px}\
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}\
td:first-child,th:first-child{text-align:left}\
.charts{display:flex;flex-wrap:wrap;gap:8px}.charts svg{border:1px solid #eee}\
.grid{display:flex;flex-wrap:wrap;gap:12px}\
figure{margin:0;text-align:center;font-size:12px}\
figure img{image-rendering:pixelated;display:block;margin-bottom:4px;background:#000}\
.swatch{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}";

/// The whole page.
pub fn document(title: &str, meta: &str, sections: &[Section]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n<nav>",
        escape(title),
        escape(title),
        escape(meta)
    );
    for sec in sections {
        let _ = write!(
            s,
            "<a href=\"#{}\">{}</a>",
            escape(&sec.id),
            escape(&sec.title)
        );
    }
    s.push_str("</nav>\n");
    for sec in sections {
        let _ = write!(
            s,
            "<section id=\"{}\">\n<h2>{}</h2>\n{}\n</section>\n",
            escape(&sec.id),
            escape(&sec.title),
            sec.body
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn tables_and_documents_are_well_formed() {
        let t = table(&["a", "b<"], &[vec!["1".into(), "x&y".into()]]);
        assert_eq!(
            t,
            "<table><thead><tr><th>a</th><th>b&lt;</th></tr></thead><tbody><tr><td>1</td><td>x&amp;y</td></tr></tbody></table>"
        );
        let d = document(
            "T",
            "made",
            &[Section {
                id: "s1".into(),
                title: "One".into(),
                body: "<p>b</p>".into(),
            }],
        );
        assert!(d.starts_with("<!DOCTYPE html>") && d.ends_with("</html>\n"));
        assert!(d.contains("<a href=\"#s1\">One</a>") && d.contains("<section id=\"s1\">"));
        assert!(!d.contains("http://") && !d.contains("https://") && !d.contains("<script"));
    }
}

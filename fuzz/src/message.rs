//! A request as text, HTTP/1 style, for readable seeds:
//!
//! ```text
//! POST /api/conferbot/external/v1/webhooks?x=1
//! host: 127.0.0.1:8787
//! x-conferbot-csrf: 1
//!
//! {"url":"https://example.com/hook","events":["response.created"]}
//! ```
//!
//! The first line is `METHOD TARGET`, optionally followed by ` absolute`
//! (the target was in absolute form, `GET http://host/... HTTP/1.1`); then
//! `name: value` lines; a blank line; the body, as raw bytes. Lines end with
//! `\n` or `\r\n`. Anything goes: a line without `:` is a header with an
//! empty value, a missing blank line is an empty body.

/// One parsed message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The method (first word of the first line).
    pub method: String,
    /// The raw path, before any `?`.
    pub path: String,
    /// The raw query after the first `?`, if any.
    pub query: Option<String>,
    /// Whether the first line ends with ` absolute`.
    pub absolute_form: bool,
    /// The header lines, in order, names as written.
    pub headers: Vec<(String, String)>,
    /// Everything after the blank line.
    pub body: Vec<u8>,
}

impl Message {
    /// Reads `data` (never fails: every input is some message).
    pub fn parse(data: &[u8]) -> Self {
        let (head, body) = split_head(data);
        let head = String::from_utf8_lossy(head);
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let first = lines.next().unwrap_or_default();
        let mut words = first.splitn(3, ' ');
        let method = words.next().unwrap_or_default().to_owned();
        let target = words.next().unwrap_or_default();
        let absolute_form = words.next() == Some("absolute");
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (target.to_owned(), None),
        };
        let headers = lines
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once(':') {
                Some((name, value)) => (name.to_owned(), value.trim_start().to_owned()),
                None => (line.to_owned(), String::new()),
            })
            .collect();
        Self {
            method,
            path,
            query,
            absolute_form,
            headers,
            body: body.to_vec(),
        }
    }

    /// The value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The head and the body: split at the first blank line.
fn split_head(data: &[u8]) -> (&[u8], &[u8]) {
    for (at, window) in data.windows(2).enumerate() {
        if window == b"\n\n" {
            return (&data[..at], &data[at + 2..]);
        }
        if window == b"\n\r" && data.get(at + 2) == Some(&b'\n') {
            return (&data[..at], &data[at + 3..]);
        }
    }
    (data, &[])
}

//! A request as the policy sees it, whatever the runtime that received it:
//! the method, the raw path (still percent-encoded, never normalized), the
//! raw query, the headers and the body.
//!
//! Servers hand the policy their own header storage through [`HeaderLookup`]
//! (axum's `HeaderMap` in `conferbot-bff`, copied nowhere), or build a
//! [`HeaderList`] of name/value pairs (the npm server half, from a fetch
//! `Request`). [`Request`] is the owned form, for callers that copy anyway.

/// Header values by name, over whatever storage the server holds them in.
pub trait HeaderLookup {
    /// Every value of the header `name` (lower case), in the order received.
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a;

    /// The first value of `name`, as bytes.
    fn first<'a>(&'a self, name: &'a str) -> Option<&'a [u8]> {
        self.values(name).next()
    }

    /// The first value of `name`, when it is text.
    fn first_str<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.first(name).and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// Headers as a list of name/value pairs, names lower-cased on the way in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderList(Vec<(String, String)>);

impl HeaderList {
    /// The list of `pairs`, in order; repeated names are kept as repeated.
    pub fn new<N: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(name, value)| (name.as_ref().to_ascii_lowercase(), value.into()))
                .collect(),
        )
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl HeaderLookup for HeaderList {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
    }
}

/// What the policy reads of a request, borrowed from the server's own types.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a, H: ?Sized> {
    /// The method as sent (`GET`, upper case).
    pub method: &'a str,
    /// The raw path, still percent-encoded, without the query.
    pub path: &'a str,
    /// The raw query after `?`, if any.
    pub query: Option<&'a str>,
    /// Whether the request target named a scheme or host over HTTP/1
    /// (`GET http://evil/... HTTP/1.1`), the form meant for proxies. (HTTP/2
    /// always carries the authority, and a fetch `Request` always has a full
    /// URL: servers say `false` there.)
    pub absolute_form: bool,
    /// The headers.
    pub headers: &'a H,
}

/// A whole request, owned: for servers that copy the request anyway (the npm
/// server half gets it from JS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The method as sent.
    pub method: String,
    /// The raw path, still percent-encoded, without the query.
    pub path: String,
    /// The raw query after `?`, if any.
    pub query: Option<String>,
    /// See [`RequestHead::absolute_form`].
    pub absolute_form: bool,
    /// The headers.
    pub headers: HeaderList,
    /// The body as received.
    pub body: Vec<u8>,
}

impl Request {
    /// The head, borrowed.
    pub fn head(&self) -> RequestHead<'_, HeaderList> {
        RequestHead {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            absolute_form: self.absolute_form,
            headers: &self.headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_look_names_up_in_any_case_and_keep_repeats() {
        let headers = HeaderList::new([("Origin", "https://a"), ("ORIGIN", "https://b")]);
        let all: Vec<&[u8]> = headers.values("origin").collect();
        assert_eq!(all, vec![&b"https://a"[..], &b"https://b"[..]]);
        assert_eq!(headers.first_str("origin"), Some("https://a"));
        assert_eq!(headers.first("host"), None);
        assert_eq!(headers.pairs()[1].0, "origin");
    }

    #[test]
    fn an_owned_request_lends_its_head() {
        let request = Request {
            method: "GET".into(),
            path: "/api/conferbot/external/v1/usage".into(),
            query: Some("x=1".into()),
            ..Request::default()
        };
        let head = request.head();
        assert_eq!((head.method, head.query), ("GET", Some("x=1")));
        assert!(!head.absolute_form);
    }
}

//! Request headers as JS hands them over: the fetch API's `Headers` joins the
//! values of a repeated header with `", "`, so each value is split back on
//! commas, and the policy sees the repeats the Rust BFF would. (Every header
//! the policy reads is a list or a single token without commas: the CSRF
//! marker, `Origin`, `Host`, `Last-Event-ID`, the webhook's signature,
//! event and timestamp.)

use conferbot_policy::HeaderLookup;

/// Header values by lower-case name, each possibly a combined list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CombinedHeaders(Vec<(&'static str, String)>);

impl CombinedHeaders {
    /// The headers `pairs` (names lower case); absent ones are `None`.
    pub fn new(pairs: impl IntoIterator<Item = (&'static str, Option<String>)>) -> Self {
        Self(
            pairs
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| (name, v)))
                .collect(),
        )
    }
}

impl HeaderLookup for CombinedHeaders {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, value)| value.split(',').map(|v| v.trim().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_values_are_split_back_into_repeats() {
        let headers = CombinedHeaders::new([
            ("origin", Some("https://a, https://b".to_owned())),
            ("host", None),
            ("x-conferbot-csrf", Some("1".to_owned())),
        ]);
        let origins: Vec<&[u8]> = headers.values("origin").collect();
        assert_eq!(origins, vec![&b"https://a"[..], &b"https://b"[..]]);
        assert_eq!(headers.first_str("x-conferbot-csrf"), Some("1"));
        assert_eq!(headers.first("host"), None);
    }
}

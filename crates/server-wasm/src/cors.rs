//! CORS for `allowOrigins`, as `conferbot-bff`'s CORS layer (tower-http's
//! `CorsLayer` over the policy's lists, [`conferbot_policy::headers`]) answers:
//! every `OPTIONS` under the mount is a preflight, answered `200` with an
//! empty body; every other answer gets `Vary`, `Access-Control-Expose-Headers`
//! and, for a listed origin (exactly as configured), `Access-Control-Allow-Origin`.
//! With no origins configured there is no CORS at all (same-origin only).

use conferbot_policy::headers::{CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS};

/// What `Vary` names: the request headers a CORS answer depends on.
pub const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// The CORS rules of one handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<String>,
}

/// Header name/value pairs of an answer.
pub type Pairs = Vec<(String, String)>;

impl Cors {
    /// The rules for `origins`; `None` when there are none.
    pub fn new(origins: &[String]) -> Option<Self> {
        (!origins.is_empty()).then(|| Self {
            origins: origins.to_vec(),
        })
    }

    /// Whether a request with `method` is a preflight (answered here).
    pub fn is_preflight(method: &str) -> bool {
        method == "OPTIONS"
    }

    /// The headers of the preflight answer for `origin`.
    pub fn preflight(&self, origin: Option<&str>) -> Pairs {
        let methods: Vec<&str> = CORS_ALLOW_METHODS.iter().map(|m| m.as_str()).collect();
        let mut pairs = vec![
            ("vary".to_owned(), VARY.to_owned()),
            ("access-control-allow-methods".to_owned(), methods.join(",")),
            (
                "access-control-allow-headers".to_owned(),
                CORS_ALLOW_HEADERS.join(","),
            ),
        ];
        self.allow_origin(origin, &mut pairs);
        pairs
    }

    /// Adds the CORS headers to an answer for a request from `origin`.
    pub fn decorate(&self, origin: Option<&str>, pairs: &mut Pairs) {
        pairs.push(("vary".to_owned(), VARY.to_owned()));
        set(
            pairs,
            "access-control-expose-headers",
            CORS_EXPOSE_HEADERS.join(","),
        );
        self.allow_origin(origin, pairs);
    }

    fn allow_origin(&self, origin: Option<&str>, pairs: &mut Pairs) {
        if let Some(origin) = origin.filter(|o| self.origins.iter().any(|a| a == o)) {
            set(pairs, "access-control-allow-origin", origin.to_owned());
        }
    }
}

/// Sets `name` to `value`, replacing any value it had.
pub fn set(pairs: &mut Pairs, name: &str, value: String) {
    pairs.retain(|(n, _)| n != name);
    pairs.push((name.to_owned(), value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn preflights_list_methods_and_headers_and_allow_listed_origins_only() {
        let cors = Cors::new(&["https://app.example.com".to_owned()]).unwrap();
        let ok = cors.preflight(Some("https://app.example.com"));
        assert_eq!(
            value(&ok, "access-control-allow-methods"),
            Some("GET,POST,DELETE")
        );
        assert_eq!(
            value(&ok, "access-control-allow-headers"),
            Some("content-type,x-conferbot-csrf")
        );
        assert_eq!(
            value(&ok, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        let evil = cors.preflight(Some("https://evil.example"));
        assert_eq!(value(&evil, "access-control-allow-origin"), None);
        assert!(Cors::new(&[]).is_none());
    }

    #[test]
    fn answers_get_vary_expose_and_the_origin_when_listed() {
        let cors = Cors::new(&["https://app.example.com".to_owned()]).unwrap();
        let mut pairs = vec![("content-type".to_owned(), "application/json".to_owned())];
        cors.decorate(Some("https://app.example.com"), &mut pairs);
        assert_eq!(value(&pairs, "vary"), Some(VARY));
        assert_eq!(
            value(&pairs, "access-control-expose-headers"),
            Some(CORS_EXPOSE_HEADERS.join(",").as_str())
        );
        assert!(value(&pairs, "access-control-expose-headers")
            .is_some_and(|names| names.contains("x-quota-month-remaining")));
        assert_eq!(
            value(&pairs, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        let mut other = Pairs::new();
        cors.decorate(Some("https://APP.example.com"), &mut other);
        assert_eq!(value(&other, "access-control-allow-origin"), None);
    }
}

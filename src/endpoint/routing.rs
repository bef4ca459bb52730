//! Route matching: a request's method and raw path to an operation of the
//! table, with its ids validated, or why not.

use super::Segment::{Id, Literal};
use super::{hostile_reason, Method, Operation, Segment, ENDPOINTS};
use crate::error::Error;
use crate::id::ObjectId;

/// A request matched to an operation, with its validated ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The operation.
    pub operation: Operation,
    /// Its ids, in path order.
    pub ids: Vec<ObjectId>,
}

/// Why a request matches no operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The path tries to escape or disguise itself (`..`, `%2f`, `\`, `//`):
    /// refused as a bad request, never forwarded.
    #[error("{0}")]
    Hostile(String),
    /// The path has an operation's shape but an id is not 24 hex digits.
    #[error("{0}")]
    InvalidId(Error),
    /// No operation has this path.
    #[error("no operation of the API has this path")]
    NotFound,
    /// The path exists, with other methods.
    #[error("this path takes {}", methods(.0))]
    MethodNotAllowed(Vec<Method>),
}

/// `GET, POST`.
fn methods(allowed: &[Method]) -> String {
    let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
    names.join(", ")
}

/// Matches `method` and a raw (still percent-encoded) `path` under
/// [`EXTERNAL_PREFIX`], like `/chatbots/64f8…/responses`, against the table.
///
/// Nothing is decoded: the table's paths are plain ASCII, so any escape, dot
/// segment, backslash or empty segment is refused as hostile.
pub fn match_route(method: &str, path: &str) -> Result<RouteMatch, RouteError> {
    if let Some(reason) = hostile_reason(path) {
        return Err(RouteError::Hostile(reason.to_owned()));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    let mut bad_id = None;
    for endpoint in &ENDPOINTS {
        match match_segments(endpoint.segments, &segments) {
            Shape::No => {}
            Shape::BadId(err) => bad_id = bad_id.or(Some(err)),
            Shape::Yes(ids) => {
                if endpoint.method.as_str() == method {
                    return Ok(RouteMatch {
                        operation: endpoint.operation,
                        ids,
                    });
                }
                allowed.push(endpoint.method);
            }
        }
    }
    match (allowed.is_empty(), bad_id) {
        (false, _) => Err(RouteError::MethodNotAllowed(allowed)),
        (true, Some(err)) => Err(RouteError::InvalidId(err)),
        (true, None) => Err(RouteError::NotFound),
    }
}

enum Shape {
    No,
    BadId(Error),
    Yes(Vec<ObjectId>),
}

fn match_segments(template: &[Segment], segments: &[&str]) -> Shape {
    if template.len() != segments.len() {
        return Shape::No;
    }
    let mut ids = Vec::new();
    for (expected, actual) in template.iter().zip(segments) {
        match expected {
            Literal(text) if text == actual => {}
            Literal(_) => return Shape::No,
            Id(what) => match ObjectId::parse(actual, what) {
                Ok(id) => ids.push(id),
                Err(err) => return Shape::BadId(err),
            },
        }
    }
    Shape::Yes(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> ObjectId {
        ObjectId::parse(raw, "id").unwrap()
    }

    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

    #[test]
    fn matches_every_row_back() {
        let bot = id(BOT);
        for op in Operation::ALL {
            let ids: Vec<&ObjectId> = std::iter::repeat_n(&bot, op.id_count()).collect();
            let path = op.path(&ids).unwrap();
            let matched = match_route(op.method().as_str(), &path).unwrap();
            assert_eq!(matched.operation, op, "{path}");
            assert_eq!(matched.ids.len(), op.id_count());
        }
    }

    #[test]
    fn tells_not_found_from_wrong_method_from_bad_id() {
        assert_eq!(match_route("GET", "/nope"), Err(RouteError::NotFound));
        assert_eq!(
            match_route("GET", "/chatbots/extra/deep/path"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            match_route("PUT", "/webhooks"),
            Err(RouteError::MethodNotAllowed(vec![
                Method::Get,
                Method::Post
            ]))
        );
        assert_eq!(
            match_route("DELETE", "/chatbots"),
            Err(RouteError::MethodNotAllowed(vec![Method::Get]))
        );
        assert!(matches!(
            match_route("GET", "/chatbots/123"),
            Err(RouteError::InvalidId(_))
        ));
    }

    #[test]
    fn route_errors_read_as_sentences() {
        assert_eq!(
            RouteError::MethodNotAllowed(vec![Method::Get, Method::Post]).to_string(),
            "this path takes GET, POST"
        );
        assert_eq!(
            RouteError::NotFound.to_string(),
            "no operation of the API has this path"
        );
    }

    #[test]
    fn refuses_path_tricks() {
        for path in [
            "/chatbots/..",
            "/chatbots/../usage",
            "/chatbots/%2e%2e/usage",
            "/chatbots%2fusage",
            "/chatbots/64f8a2b3c1d4e5f6a7b8c9d0%2F..",
            "//evil.example/chatbots",
            "/chatbots\\..\\usage",
            "/http://evil/chatbots",
            "/chatbots/./x",
            "chatbots",
            "/chat bots",
            "/user@host/usage",
        ] {
            assert!(
                matches!(match_route("GET", path), Err(RouteError::Hostile(_))),
                "{path}"
            );
        }
    }
}

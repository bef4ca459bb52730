//! The path tricks a server refuses as bad requests before any matching:
//! escapes, backslashes, empty or dot segments, a scheme or host.

/// Why a raw (still percent-encoded) `path` is hostile, if it is: escapes,
/// backslashes, empty or dot segments, a scheme or host, spaces or non-ASCII.
/// [`match_route`] applies it first; it is public so that a server can also
/// refuse such paths outside the table (`/api/conferbot/../x`) as bad requests.
pub fn hostile_reason(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("path must start with /");
    }
    if path.contains('%') {
        return Some("percent-encoded characters are not allowed in API paths");
    }
    if path.contains('\\') {
        return Some("backslashes are not allowed in API paths");
    }
    if path.contains("//") {
        return Some("empty path segments are not allowed");
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return Some("dot segments are not allowed in API paths");
    }
    if path.contains(':') || path.contains('@') {
        return Some("API paths cannot name a host or scheme");
    }
    if path.bytes().any(|b| !b.is_ascii_graphic()) {
        return Some("API paths are plain ASCII without spaces or control characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hostile_reason_names_the_trick_and_passes_plain_paths() {
        assert_eq!(hostile_reason("/chatbots"), None);
        assert_eq!(hostile_reason("/anything/unknown"), None);
        assert_eq!(
            hostile_reason("/a/../b"),
            Some("dot segments are not allowed in API paths")
        );
        assert!(hostile_reason("/a%2fb").is_some());
    }
}

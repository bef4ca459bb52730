//! The shared cache key of a read: `operation:ids:canonical-query`
//! (`listResponses:64f8…:page=1&limit=20`, `getUsage::`). Built from a
//! validated [`Target`] only, so two requests that differ in anything the
//! upstream ignores (parameter order, unknown parameters) share one entry.

use conferbot::ObjectId;

use crate::route::Target;

/// The key of the read `target`.
pub fn cache_key(target: &Target) -> String {
    let ids: Vec<&str> = target.ids.iter().map(ObjectId::as_str).collect();
    let query = target.page.map(|p| p.to_query()).unwrap_or_default();
    format!("{}:{}:{query}", target.operation.name(), ids.join("/"))
}

#[cfg(test)]
mod tests {
    use conferbot::{Operation, PageRequest};

    use super::*;

    #[test]
    fn keys_name_the_operation_ids_and_canonical_page() {
        let bot = ObjectId::parse("64f8a2b3c1d4e5f6a7b8c9d0", "id").unwrap();
        let target = Target {
            operation: Operation::ListResponses,
            ids: vec![bot],
            page: Some(PageRequest::default()),
        };
        assert_eq!(
            cache_key(&target),
            "listResponses:64f8a2b3c1d4e5f6a7b8c9d0:page=1&limit=20"
        );
        let usage = Target {
            operation: Operation::GetUsage,
            ids: vec![],
            page: None,
        };
        assert_eq!(cache_key(&usage), "getUsage::");
    }
}

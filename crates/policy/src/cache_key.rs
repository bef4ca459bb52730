//! The shared cache key of a read: `operation:ids:canonical-query`
//! (`listResponses:64f8…:page=1&limit=20`, `getUsage::`). Built from a
//! validated [`Target`] only, so two requests that differ in anything the
//! upstream ignores (parameter order, unknown parameters) share one entry.

use conferbot::{ObjectId, Operation, PageRequest};

use crate::route::Target;

/// The key of the read `target`.
pub fn cache_key(target: &Target) -> String {
    let ids: Vec<&str> = target.ids.iter().map(ObjectId::as_str).collect();
    let query = target.page.map(|p| p.to_query()).unwrap_or_default();
    format!("{}:{}:{query}", target.operation.name(), ids.join("/"))
}

/// The target whose key is `key` (a shared cache walks keys, and the patch
/// rules take targets); `None` for a key [`cache_key`] would not write.
pub fn target_of(key: &str) -> Option<Target> {
    let mut parts = key.splitn(3, ':');
    let (name, ids, query) = (parts.next()?, parts.next()?, parts.next()?);
    let operation = Operation::ALL.into_iter().find(|op| op.name() == name)?;
    let ids: Vec<ObjectId> = if ids.is_empty() {
        Vec::new()
    } else {
        ids.split('/')
            .map(|id| ObjectId::parse(id, "id").ok())
            .collect::<Option<_>>()?
    };
    let page = match query {
        "" => None,
        query => Some(PageRequest::from_query_string(Some(query)).ok()?),
    };
    let target = Target {
        operation,
        ids,
        page,
    };
    (cache_key(&target) == key).then_some(target)
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

    #[test]
    fn keys_read_back_into_their_targets() {
        for key in [
            "listResponses:64f8a2b3c1d4e5f6a7b8c9d0:page=2&limit=10",
            "getChatbot:64f8a2b3c1d4e5f6a7b8c9d0:",
            "getUsage::",
            "listChatbots::page=1&limit=20",
        ] {
            let target = target_of(key).unwrap();
            assert_eq!(cache_key(&target), key);
        }
        for bad in [
            "nope::",
            "getUsage:",
            "getChatbot:xyz:",
            "listChatbots::limit=20&page=1",
        ] {
            assert_eq!(target_of(bad), None, "{bad}");
        }
    }
}

//! The `{"data": ...}` envelope every answer uses, and list pages.

use serde::{Deserialize, Serialize};

/// `{"data": T}`: how single objects are answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataEnvelope<T> {
    /// The answered object.
    pub data: T,
}

/// One page of a list: `{"data": [...], "total", "page", "totalPages"}`.
///
/// The guide's own example omits `total`, `page` and `totalPages`, so they
/// are optional: decode what the real server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Items in the whole list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// This page's number, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Pages in the whole list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<u32>,
}

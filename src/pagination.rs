//! Pagination rules: request bounds, page math, and the paginator.
//!
//! The guide: query `page` and `limit`, default limit 20, maximum 100;
//! answers carry `total`, `page` and `totalPages`. The client validates with
//! these rules before sending, the BFF re-validates what it forwards, and the
//! sandbox answers by them.

use std::ops::Range;

use crate::error::Error;
use crate::text;
use crate::types::Page;

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most items a page may hold.
pub const MAX_LIMIT: u32 = 100;
/// Highest page number accepted; far beyond any real list, it keeps page math in range.
pub const MAX_PAGE: u32 = 1_000_000_000;

/// A validated `page`/`limit` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl PageRequest {
    /// Page `page` of `limit` items, validated.
    pub fn new(page: u32, limit: u32) -> Result<Self, Error> {
        Ok(Self {
            page: check_page(i64::from(page))?,
            limit: check_limit(i64::from(limit))?,
        })
    }

    /// From JS numbers: absent means the default; fractions, NaN and
    /// out-of-range values are refused with the allowed range.
    pub fn from_numbers(page: Option<f64>, limit: Option<f64>) -> Result<Self, Error> {
        let page = match page {
            None => 1,
            Some(n) => check_page(integral(n, "page", MAX_PAGE)?)?,
        };
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) => check_limit(integral(n, "limit", MAX_LIMIT)?)?,
        };
        Ok(Self { page, limit })
    }

    /// From query-string values (`?page=2&limit=50`): absent means the default;
    /// anything but plain decimal digits is refused with the allowed range.
    pub fn from_query(page: Option<&str>, limit: Option<&str>) -> Result<Self, Error> {
        let page = match page {
            None => 1,
            Some(raw) => check_page(decimal(raw, "page", MAX_PAGE)?)?,
        };
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => check_limit(decimal(raw, "limit", MAX_LIMIT)?)?,
        };
        Ok(Self { page, limit })
    }

    /// From a raw query string as a server receives it (`page=2&limit=50&x=1`,
    /// still percent-encoded): `page` and `limit` are read by [`Self::from_query`]
    /// and other parameters are ignored. A parameter given twice is refused,
    /// because two readers of the same URL could pick different ones.
    pub fn from_query_string(query: Option<&str>) -> Result<Self, Error> {
        let (mut page, mut limit) = (None, None);
        for pair in query.unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "page" => &mut page,
                "limit" => &mut limit,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(Error::invalid_request(format!(
                    "{key} must be given at most once"
                )));
            }
        }
        Self::from_query(page, limit)
    }

    /// The page number, from 1.
    pub fn page(self) -> u32 {
        self.page
    }

    /// Items per page.
    pub fn limit(self) -> u32 {
        self.limit
    }

    /// The same size, another page number.
    pub fn with_page(self, page: u32) -> Result<Self, Error> {
        Self::new(page, self.limit)
    }

    /// The canonical query string, `page=P&limit=L`.
    pub fn to_query(self) -> String {
        format!("page={}&limit={}", self.page, self.limit)
    }

    /// Which items of a list of `total` this page holds (empty past the end).
    pub fn slice(self, total: usize) -> Range<usize> {
        let start = (self.page as usize - 1)
            .saturating_mul(self.limit as usize)
            .min(total);
        let end = start.saturating_add(self.limit as usize).min(total);
        start..end
    }
}

/// The allowed range of a value whose largest is `max`, for an error.
fn rule(max: u32) -> String {
    format!("an integer from 1 to {max}")
}

fn check_page(n: i64) -> Result<u32, Error> {
    if (1..=i64::from(MAX_PAGE)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(Error::invalid_request(format!(
            "page must be {}, got {n}",
            rule(MAX_PAGE)
        )))
    }
}

fn check_limit(n: i64) -> Result<u32, Error> {
    if (1..=i64::from(MAX_LIMIT)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(Error::invalid_request(format!(
            "limit must be {} (default {DEFAULT_LIMIT}), got {n}",
            rule(MAX_LIMIT)
        )))
    }
}

/// A JS number as an integer: finite, whole and small enough to be exact
/// (beyond 1e15 it is out of range anyway, and says so).
fn integral(n: f64, name: &str, max: u32) -> Result<i64, Error> {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        Ok(n as i64)
    } else {
        Err(Error::invalid_request(format!(
            "{name} must be {}, got {}",
            rule(max),
            text::number(n)
        )))
    }
}

/// Plain decimal digits; at most 12 of them, so that the value fits an `i64`
/// and a long run of digits is refused as out of range. (The rule is
/// only written out for the error: a valid value costs no allocation.)
fn decimal(raw: &str, name: &str, max: u32) -> Result<i64, Error> {
    let digits_only = !raw.is_empty() && raw.len() <= 12 && raw.bytes().all(|b| b.is_ascii_digit());
    match digits_only.then(|| raw.parse::<i64>().ok()).flatten() {
        Some(n) => Ok(n),
        None => {
            let shown: String = raw.chars().take(20).collect();
            Err(Error::invalid_request(format!(
                "{name} must be {}, got {}",
                rule(max),
                text::quote(&shown)
            )))
        }
    }
}

/// Pages needed for `total` items at `limit` per page (0 for an empty list).
pub fn total_pages(total: u64, limit: u32) -> u32 {
    let limit = u64::from(limit.max(1));
    u32::try_from(total.div_ceil(limit)).unwrap_or(u32::MAX)
}

/// Whether a page after `page` exists. Uses `totalPages` when the server sent
/// it; otherwise a full page suggests more (the guide's example has no totals).
pub fn has_next_page<T>(page: &Page<T>, requested: PageRequest) -> bool {
    if page.data.is_empty() {
        return false;
    }
    let current = page.page.unwrap_or(requested.page);
    match (page.total_pages, page.total) {
        (Some(pages), _) => current < pages,
        (None, Some(total)) => current < total_pages(total, requested.limit),
        (None, None) => page.data.len() >= requested.limit as usize,
    }
}

/// The request for the page after `page`, if there is one.
pub fn next_page_request<T>(page: &Page<T>, requested: PageRequest) -> Option<PageRequest> {
    if !has_next_page(page, requested) {
        return None;
    }
    let current = page.page.unwrap_or(requested.page);
    requested.with_page(current.checked_add(1)?).ok()
}

/// The state machine behind auto-pagination: which page to ask for next, and
/// when to stop. Both the wasm async iterators and native code drive it, so
/// the rules are the same everywhere.
///
/// It stops on the last page, on an empty page, and if the server answers a
/// page number it was not asked for twice in a row (no endless loops against
/// a misbehaving server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paginator {
    next: Option<PageRequest>,
    pages_seen: u32,
}

impl Paginator {
    /// Starts at `first` (usually page 1).
    pub fn new(first: PageRequest) -> Self {
        Self {
            next: Some(first),
            pages_seen: 0,
        }
    }

    /// The page to fetch now, or `None` when the list is exhausted.
    pub fn next_request(&self) -> Option<PageRequest> {
        self.next
    }

    /// Records the page the server answered to [`Self::next_request`].
    pub fn record<T>(&mut self, page: &Page<T>) {
        let Some(requested) = self.next else { return };
        self.pages_seen = self.pages_seen.saturating_add(1);
        let answered_other_page = page.page.is_some_and(|p| p != requested.page);
        self.next = if answered_other_page {
            None
        } else {
            next_page_request(page, requested)
        };
    }

    /// Pages recorded so far.
    pub fn pages_seen(&self) -> u32 {
        self.pages_seen
    }

    /// Whether there is nothing more to fetch.
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, page: Option<u32>, total: Option<u64>, total_pages: Option<u32>) -> Page<u8> {
        Page {
            data: vec![0; n],
            total,
            page,
            total_pages,
        }
    }

    #[test]
    fn defaults_are_page_1_limit_20() {
        assert_eq!(
            PageRequest::from_numbers(None, None).unwrap(),
            PageRequest::new(1, 20).unwrap()
        );
        assert_eq!(
            PageRequest::from_query(None, None).unwrap(),
            PageRequest::default()
        );
    }

    #[test]
    fn bounds_say_what_is_allowed() {
        let e = PageRequest::from_numbers(Some(0.0), None).unwrap_err();
        assert_eq!(
            e.message,
            "page must be an integer from 1 to 1000000000, got 0"
        );
        let e = PageRequest::from_numbers(None, Some(101.0)).unwrap_err();
        assert_eq!(
            e.message,
            "limit must be an integer from 1 to 100 (default 20), got 101"
        );
        assert!(PageRequest::from_numbers(None, Some(0.0)).is_err());
        assert!(PageRequest::from_numbers(Some(1.5), None)
            .unwrap_err()
            .message
            .contains("got 1.5"));
        assert!(PageRequest::from_numbers(Some(f64::NAN), None).is_err());
        assert!(PageRequest::from_numbers(Some(-3.0), None).is_err());
        assert_eq!(
            PageRequest::from_numbers(Some(7.0), Some(100.0))
                .unwrap()
                .limit(),
            100
        );
    }

    #[test]
    fn query_values_must_be_plain_digits() {
        for bad in [
            "",
            "abc",
            "-1",
            "+1",
            "1.0",
            " 1",
            "0x10",
            "1e3",
            "99999999999999999",
        ] {
            let e = PageRequest::from_query(Some(bad), None).unwrap_err();
            assert!(
                e.message.starts_with("page must be an integer"),
                "{bad}: {}",
                e.message
            );
        }
        assert!(PageRequest::from_query(None, Some("101")).is_err());
        assert_eq!(
            PageRequest::from_query(Some("007"), Some("100"))
                .unwrap()
                .to_query(),
            "page=7&limit=100"
        );
    }

    #[test]
    fn reads_page_and_limit_from_a_raw_query_string() {
        let parse = PageRequest::from_query_string;
        assert_eq!(parse(None).unwrap(), PageRequest::default());
        assert_eq!(parse(Some("")).unwrap(), PageRequest::default());
        assert_eq!(
            parse(Some("limit=5&utm=x&page=3")).unwrap().to_query(),
            "page=3&limit=5"
        );
        assert_eq!(parse(Some("x&&y=")).unwrap(), PageRequest::default());
        assert!(parse(Some("page=1&page=2"))
            .unwrap_err()
            .message
            .contains("page must be given at most once"));
        for bad in ["page=", "page", "limit=%31", "page=1;x", "limit=101"] {
            assert!(parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_math() {
        assert_eq!(total_pages(0, 20), 0);
        assert_eq!(total_pages(137, 20), 7);
        assert_eq!(total_pages(140, 20), 7);
        assert_eq!(total_pages(141, 20), 8);
        let req = PageRequest::new(7, 20).unwrap();
        assert_eq!(req.slice(137), 120..137);
        assert_eq!(PageRequest::new(8, 20).unwrap().slice(137), 137..137);
        assert_eq!(PageRequest::new(MAX_PAGE, 100).unwrap().slice(5), 5..5);
    }

    #[test]
    fn next_page_uses_totals_when_present_and_a_full_page_otherwise() {
        let req = PageRequest::new(1, 20).unwrap();
        assert!(has_next_page(&page(20, Some(1), Some(137), Some(7)), req));
        assert!(!has_next_page(
            &page(17, Some(7), Some(137), Some(7)),
            PageRequest::new(7, 20).unwrap()
        ));
        assert!(has_next_page(&page(20, None, Some(137), None), req));
        assert!(has_next_page(&page(20, None, None, None), req));
        assert!(!has_next_page(&page(1, None, None, None), req));
        assert!(!has_next_page(&page(0, Some(1), Some(137), Some(7)), req));
        assert_eq!(
            next_page_request(&page(20, Some(1), None, Some(7)), req).map(PageRequest::page),
            Some(2)
        );
    }

    #[test]
    fn paginator_walks_every_page_then_stops() {
        let mut p = Paginator::new(PageRequest::new(1, 50).unwrap());
        let mut asked = vec![];
        while let Some(req) = p.next_request() {
            asked.push(req.page());
            let range = req.slice(137);
            p.record(&page(
                range.len(),
                Some(req.page()),
                Some(137),
                Some(total_pages(137, 50)),
            ));
        }
        assert_eq!(asked, vec![1, 2, 3]);
        assert_eq!(p.pages_seen(), 3);
        assert!(p.is_done());
    }

    #[test]
    fn paginator_stops_on_a_server_that_repeats_a_page() {
        let mut p = Paginator::new(PageRequest::new(1, 20).unwrap());
        p.record(&page(20, Some(1), None, None));
        assert_eq!(p.next_request().map(PageRequest::page), Some(2));
        p.record(&page(20, Some(1), None, None));
        assert!(p.is_done());
    }

    #[test]
    fn paginator_without_totals_stops_on_a_short_page() {
        let mut p = Paginator::new(PageRequest::default());
        p.record(&page(20, None, None, None));
        p.record(&page(3, None, None, None));
        assert!(p.is_done());
        assert_eq!(p.pages_seen(), 2);
    }
}

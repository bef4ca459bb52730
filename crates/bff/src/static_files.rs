//! The demo's static files: the dashboard at `/` (`--www`) and the npm
//! package at `/pkg/` (`--pkg`), served by tower-http's `ServeDir`, which
//! refuses paths that leave the directory.

use std::path::Path;

use axum::Router;
use tower_http::services::ServeDir;

use crate::http::not_found;

/// Adds the configured directories to `app`; without `--www`, unknown paths
/// get the API's JSON `404`.
pub(crate) fn attach(app: Router, www: Option<&Path>, pkg: Option<&Path>) -> Router {
    let app = match pkg {
        Some(dir) => app.nest_service("/pkg", ServeDir::new(dir)),
        None => app,
    };
    match www {
        Some(dir) => app.fallback_service(ServeDir::new(dir)),
        None => app.fallback(not_found),
    }
}

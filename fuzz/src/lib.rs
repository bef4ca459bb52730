//! What the fuzz targets share: the oracles they check the library against,
//! and the readable text form of requests and deliveries their seeds use.
//!
//! - [`shape_oracle`]: a JSON value against a wire-schema table
//!   (`conferbot::shape`), field by field, independently of serde.
//! - [`json_eq`]: two JSON values equal, floats to within rounding.
//! - [`message`]: a request or delivery written as text, HTTP/1 style
//!   (`METHOD target`, `name: value` lines, a blank line, the body), so that
//!   the committed seeds are real requests a person can read.
//! - [`decision`]: the BFF's request → decision path, composed from the
//!   policy's functions in the order both servers apply them.

pub mod decision;
pub mod json_eq;
pub mod message;
pub mod shape_oracle;

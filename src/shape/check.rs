//! The checker: a parsed answer against a [`Shape`], completed in place
//! (defaults, normalised names and limits), or a `decode` error that names
//! the place (`data[3].responseCount must be an integer from 0, got string`).

use crate::error::{ApiErrorBody, Error};
use crate::types::{Limit, Page, Plan};

use super::{FieldType, JsonTree, Shape};

/// Where in the answer a value sits, rendered only when something is wrong.
#[derive(Clone, Copy)]
enum Where<'a> {
    /// The whole answer.
    Answer,
    /// A field of an object.
    Field(&'a Where<'a>, &'static str),
    /// An element of an array.
    Item(&'a Where<'a>, usize),
}

impl Where<'_> {
    fn render(&self, out: &mut String) {
        match self {
            Self::Answer => out.push_str("the answer"),
            Self::Field(Self::Answer, name) => out.push_str(name),
            Self::Field(parent, name) => {
                parent.render(out);
                out.push('.');
                out.push_str(name);
            }
            Self::Item(parent, index) => {
                parent.render(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }

    fn missing(&self) -> Error {
        let mut message = String::new();
        self.render(&mut message);
        message.push_str(" is missing");
        Error::decode(message)
    }

    fn wrong<T: JsonTree>(&self, expected: &str, got: &T) -> Error {
        let mut message = String::new();
        self.render(&mut message);
        message.push_str(" must be ");
        message.push_str(expected);
        message.push_str(", got ");
        message.push_str(&got.type_name());
        Error::decode(message)
    }
}

/// `{"data": {…}}` → the object, checked against `shape`.
pub fn data<T: JsonTree>(body: &T, shape: &Shape) -> Result<T, Error> {
    let (value, at) = (envelope(body)?, Where::Field(&Where::Answer, "data"));
    checked_object(value, shape, &keys::<T>(shape), &at)
}

/// `{…}` → the object, checked against `shape` (a body without envelope).
pub fn object<T: JsonTree>(body: T, shape: &Shape) -> Result<T, Error> {
    checked_object(body, shape, &keys::<T>(shape), &Where::Answer)
}

/// `{"data": [{…}, …]}` → the array, each element checked against `shape`.
pub fn data_list<T: JsonTree>(body: &T, shape: &Shape) -> Result<T, Error> {
    let value = envelope(body)?;
    list(value, shape, &Where::Field(&Where::Answer, "data")).map(|(items, _)| items)
}

/// A list page, `{"data": [...], "total", "page", "totalPages"}` → its
/// items checked against `item`, and its shape (item count and totals,
/// without the items) for the paginator.
pub fn page<T: JsonTree>(body: &T, item: &Shape) -> Result<(T, Page<()>), Error> {
    let value = envelope(body)?;
    let (items, count) = list(value, item, &Where::Field(&Where::Answer, "data"))?;
    let number = |name: &'static str, max: u64| -> Result<Option<u64>, Error> {
        match body.field(&T::key(name)) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => whole_number(&v, max)
                .map(Some)
                .ok_or_else(|| Where::Field(&Where::Answer, name).wrong(COUNT, &v)),
        }
    };
    let total = number("total", u64::MAX)?;
    let page_number = |name| -> Result<Option<u32>, Error> {
        Ok(number(name, u64::from(u32::MAX))?.and_then(|n| u32::try_from(n).ok()))
    };
    let shape = Page {
        data: vec![(); count],
        total,
        page: page_number("page")?,
        total_pages: page_number("totalPages")?,
    };
    Ok((items, shape))
}

/// The documented error body, `{"error": "...", "message"?: "..."}`, if that
/// is what `body` is (as serde would read [`ApiErrorBody`]).
pub fn error_body<T: JsonTree>(body: &T) -> Option<ApiErrorBody> {
    if !body.is_object() {
        return None;
    }
    let error = body.field(&T::key("error"))?.text()?;
    let message = match body.field(&T::key("message")) {
        None => None,
        Some(v) if v.is_null() => None,
        Some(v) => Some(v.text()?),
    };
    Some(ApiErrorBody { error, message })
}

const COUNT: &str = "an integer from 0";

/// The answer's `data`, which must be there.
fn envelope<T: JsonTree>(body: &T) -> Result<T, Error> {
    if !body.is_object() {
        return Err(Where::Answer.wrong("an object", body));
    }
    body.field(&T::key("data"))
        .ok_or_else(|| Where::Field(&Where::Answer, "data").missing())
}

fn keys<T: JsonTree>(shape: &Shape) -> Vec<T::Key> {
    shape.fields.iter().map(|(name, _)| T::key(name)).collect()
}

/// An array whose elements are objects of `shape`, checked in place: the
/// array and its length.
fn list<T: JsonTree>(mut value: T, shape: &Shape, at: &Where<'_>) -> Result<(T, usize), Error> {
    let items = value.items().ok_or_else(|| at.wrong("an array", &value))?;
    let keys = keys::<T>(shape);
    let mut checked = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        checked.push(checked_object(item, shape, &keys, &Where::Item(at, index))?);
    }
    let count = checked.len();
    value.put_items(checked);
    Ok((value, count))
}

/// `value`, checked against `shape` and completed in place: defaults filled
/// in, names and limits written the documented way, fields the shape does
/// not name left as the server sent them.
fn checked_object<T: JsonTree>(
    mut value: T,
    shape: &Shape,
    keys: &[T::Key],
    at: &Where<'_>,
) -> Result<T, Error> {
    if !value.is_object() {
        return Err(at.wrong("an object", &value));
    }
    for (&(name, field_type), key) in shape.fields.iter().zip(keys) {
        let here = Where::Field(at, name);
        match fix(value.field(key), field_type, &here)? {
            Fix::Keep => {}
            Fix::Set(field) => value.set(key, field),
            Fix::Remove => value.remove(key),
        }
    }
    Ok(value)
}

/// What a field needs so that the object reads as the serde type writes it.
enum Fix<T> {
    /// Nothing: it is right as it is (or rightly absent).
    Keep,
    /// This value instead (a default, a normalised name or limit).
    Set(T),
    /// To be left out (an optional field sent as `null`).
    Remove,
}

fn fix<T: JsonTree>(
    raw: Option<T>,
    field_type: FieldType,
    at: &Where<'_>,
) -> Result<Fix<T>, Error> {
    use FieldType::*;
    let Some(v) = raw else {
        return Ok(Fix::Set(match field_type {
            Text | Count | Flag | PlanName | EventNames => return Err(at.missing()),
            OptionalText => return Ok(Fix::Keep),
            TextOrEmpty => T::from_text(""),
            CountOrZero => T::from_count(0),
            FlagOrTrue => T::from_flag(true),
            CallLimit => T::null(),
            JsonObject => T::new_object(),
        }));
    };
    let ok = match field_type {
        Text | TextOrEmpty => v.is_string(),
        OptionalText if v.is_null() => return Ok(Fix::Remove),
        OptionalText => v.is_string(),
        Count | CountOrZero => whole_number(&v, u64::MAX).is_some(),
        Flag | FlagOrTrue => v.boolean().is_some(),
        JsonObject => v.is_object(),
        PlanName => {
            let name = v.text().ok_or_else(|| at.wrong("a string", &v))?;
            let plan = Plan::from_name(&name);
            return Ok(if plan.as_str() == name {
                Fix::Keep
            } else {
                Fix::Set(T::from_text(plan.as_str()))
            });
        }
        CallLimit => return call_limit(&v, at),
        EventNames => {
            event_names(&v, at)?;
            true
        }
    };
    if ok {
        Ok(Fix::Keep)
    } else {
        Err(at.wrong(expected(field_type), &v))
    }
}

fn expected(field_type: FieldType) -> &'static str {
    use FieldType::*;
    match field_type {
        Text | TextOrEmpty | OptionalText | PlanName => "a string",
        Count | CountOrZero => COUNT,
        Flag | FlagOrTrue => "a boolean",
        JsonObject => "an object",
        CallLimit => "a number, null or \"unlimited\"",
        EventNames => "an array of strings",
    }
}

/// A whole number from 0 to `max`, as JSON numbers are read into `u64`.
fn whole_number<T: JsonTree>(value: &T, max: u64) -> Option<u64> {
    let n = value.number()?;
    let below_max = if max == u64::MAX {
        // `u64::MAX as f64` rounds up to 2^64, which is itself out of range.
        n < u64::MAX as f64
    } else {
        n <= max as f64
    };
    (n >= 0.0 && n.fract() == 0.0 && below_max).then_some(n as u64)
}

fn call_limit<T: JsonTree>(value: &T, at: &Where<'_>) -> Result<Fix<T>, Error> {
    if value.is_null() {
        return Ok(Fix::Keep);
    }
    let limit = match value.number() {
        Some(n) => Limit::from_number(n),
        None => value
            .text()
            .and_then(|raw| Limit::from_text(&raw))
            .ok_or_else(|| at.wrong(expected(FieldType::CallLimit), value))?,
    };
    Ok(match limit {
        Limit::Calls(n) if value.number() == Some(n as f64) => Fix::Keep,
        Limit::Calls(n) => Fix::Set(T::from_count(n)),
        Limit::Unlimited => Fix::Set(T::null()),
    })
}

fn event_names<T: JsonTree>(value: &T, at: &Where<'_>) -> Result<(), Error> {
    let items = value
        .items()
        .ok_or_else(|| at.wrong(expected(FieldType::EventNames), value))?;
    for (index, item) in items.iter().enumerate() {
        if !item.is_string() {
            return Err(Where::Item(at, index).wrong("a string", item));
        }
    }
    Ok(())
}

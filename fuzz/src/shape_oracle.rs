//! A JSON value against a table of the wire schema (`conferbot::shape`),
//! written from the tables' documentation alone: what the generated JS
//! checker promises a caller, restated as a check of serde's output. So a
//! decode that serde accepts and writes back in a form the table (and so the
//! TypeScript types) does not describe is caught.

use conferbot::shape::{FieldType, Form, Shape};
use conferbot::{Plan, WebhookEvent};
use serde_json::{Map, Value};

/// Why `value` is not what `form` describes, if it is not.
pub fn check_form(form: Form, value: &Value) -> Result<(), String> {
    let object = as_object(value, "the answer")?;
    let data = object.get("data").ok_or("no `data`")?;
    match form {
        Form::Data(shape) => check_shape(shape, data),
        Form::DataList(shape) => check_list(shape, data),
        Form::Page(shape) => {
            check_list(shape, data)?;
            for name in ["total", "page", "totalPages"] {
                if let Some(n) = object.get(name) {
                    n.as_u64()
                        .ok_or_else(|| format!("`{name}` is {n}, not a count"))?;
                }
            }
            Ok(())
        }
    }
}

fn check_list(shape: &Shape, data: &Value) -> Result<(), String> {
    let items = data.as_array().ok_or("`data` is not an array")?;
    items.iter().try_for_each(|item| check_shape(shape, item))
}

/// Why `value` is not an object of `shape`, if it is not: every field the
/// table names is there (unless optional) and of its type.
pub fn check_shape(shape: &Shape, value: &Value) -> Result<(), String> {
    let object = as_object(value, shape.name)?;
    for field in shape.fields {
        let name = field.name;
        let got = object.get(name);
        let ok = match (field.ty, got) {
            (FieldType::OptionalText, None) => true,
            (_, None) => false,
            (FieldType::Text | FieldType::TextOrEmpty | FieldType::OptionalText, Some(v)) => {
                v.is_string()
            }
            (FieldType::Count | FieldType::CountOrZero, Some(v)) => v.is_u64(),
            (FieldType::Flag | FieldType::FlagOrTrue, Some(v)) => v.is_boolean(),
            (FieldType::PlanName, Some(v)) => v.as_str().is_some_and(documented_case),
            (FieldType::CallLimit, Some(v)) => v.is_null() || v.is_u64(),
            (FieldType::EventNames, Some(v)) => v
                .as_array()
                .is_some_and(|events| events.iter().all(Value::is_string)),
            (FieldType::JsonObject, Some(v)) => v.is_object(),
        };
        if !ok {
            return Err(format!(
                "{}.{name} is {got:?}, not {:?}",
                shape.name, field.ty
            ));
        }
    }
    Ok(())
}

/// A known plan is written in its documented case (`"Pro"`, never `"pro"`);
/// an unknown one as the server named it.
fn documented_case(name: &str) -> bool {
    Plan::KNOWN
        .iter()
        .all(|plan| !plan.as_str().eq_ignore_ascii_case(name) || plan.as_str() == name)
}

/// Whether the names are each an event as written (known or kept).
pub fn event_names_round_trip(events: &[WebhookEvent]) -> bool {
    events
        .iter()
        .all(|event| WebhookEvent::from_name(event.as_str()) == *event)
}

fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is not an object: {value}"))
}

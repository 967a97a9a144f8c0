//! Trace filters as SQL: a filter expression pushed onto a query as one parenthesized condition, with bound values.

use agent_core::trace::{Comparison, FilterValue, TraceField, TraceFilter};
use sqlx::{Encode, QueryBuilder, Type};

use super::Dialect;

/// Pushes `filter` as a condition (SQL's three-valued logic is the filter's).
pub(super) fn push_filter<DB: Dialect>(builder: &mut QueryBuilder<DB>, filter: &TraceFilter)
where
    for<'e> String: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Type<DB>,
{
    match filter {
        TraceFilter::Compare { field, op, value } => {
            // Text orders by code point, as Rust strings do.
            let ordering = !matches!(op, Comparison::Eq | Comparison::Neq);
            let collation = if ordering && field.is_text() { DB::BYTE_ORDER } else { "" };
            builder.push(format!("({}{collation} {} ", field.as_str(), op.sql()));
            push_value(builder, value);
            builder.push(")");
        }
        TraceFilter::In { values, .. } if values.is_empty() => {
            builder.push("(1 = 0)");
        }
        TraceFilter::In { field, values } => {
            builder.push(format!("({} IN (", field.as_str()));
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    builder.push(", ");
                }
                push_value(builder, value);
            }
            builder.push("))");
        }
        TraceFilter::Contains { field, text } => push_position(builder, *field, text, "> 0"),
        TraceFilter::StartsWith { field, text } => push_position(builder, *field, text, "= 1"),
        TraceFilter::And(filters) => push_all(builder, filters, " AND ", "(1 = 1)"),
        TraceFilter::Or(filters) => push_all(builder, filters, " OR ", "(1 = 0)"),
        TraceFilter::Not(filter) => {
            builder.push("(NOT ");
            push_filter(builder, filter);
            builder.push(")");
        }
    }
}

fn push_value<DB: Dialect>(builder: &mut QueryBuilder<DB>, value: &FilterValue)
where
    for<'e> String: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Type<DB>,
{
    match value {
        FilterValue::Text(text) => builder.push_bind(text.clone()),
        FilterValue::Int(number) => builder.push_bind(*number),
    };
}

/// `position(lower(field), lower(text)) <test>`: contains (`> 0`) or starts with (`= 1`).
fn push_position<DB: Dialect>(builder: &mut QueryBuilder<DB>, field: TraceField, text: &str, test: &str)
where
    for<'e> String: Encode<'e, DB> + Type<DB>,
{
    let (open, close) = DB::ASCII_LOWER;
    builder.push(format!("({}({open}{}{close}, ", DB::POSITION, field.as_str()));
    builder.push_bind(text.to_ascii_lowercase());
    builder.push(format!(") {test})"));
}

fn push_all<DB: Dialect>(builder: &mut QueryBuilder<DB>, filters: &[TraceFilter], joint: &str, empty: &str)
where
    for<'e> String: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Type<DB>,
{
    if filters.is_empty() {
        builder.push(empty);
        return;
    }
    builder.push("(");
    for (index, filter) in filters.iter().enumerate() {
        if index > 0 {
            builder.push(joint);
        }
        push_filter(builder, filter);
    }
    builder.push(")");
}

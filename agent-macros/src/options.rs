//! The options of `#[tool(...)]` and `#[toolkit(...)]`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, LitBool, LitStr, Meta, Token};

use crate::diagnostics::Errors;

const TOOL_OPTIONS: &str = "`name`, `description`, `strict`, `requires_confirmation`, `external_execution`, \
                            `stop_after_call`, `cache`, `timeout`";
const TOOLKIT_OPTIONS: &str = "`name`, `instructions`";

/// What `#[tool(...)]` says; everything defaults to off.
#[derive(Default)]
pub(crate) struct ToolOptions {
    pub(crate) name: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) strict: bool,
    pub(crate) requires_confirmation: bool,
    pub(crate) external_execution: bool,
    pub(crate) stop_after_call: bool,
    pub(crate) cache: bool,
    pub(crate) timeout_ms: Option<u64>,
}

impl ToolOptions {
    /// Parses the arguments of `#[tool(...)]`, reporting every bad option.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut options = Self::default();
        let mut seen = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let Some(key) = option_key(&meta, &mut seen, errors) else {
                return skip_value(&meta);
            };
            match key.as_str() {
                "name" => options.name = Some(meta.value()?.parse()?),
                "description" => {
                    let description: LitStr = meta.value()?.parse()?;
                    if description.value().trim().is_empty() {
                        errors.spanned(&description, "the tool description must not be empty");
                    }
                    options.description = Some(description);
                }
                "strict" => options.strict = flag(&meta)?,
                "requires_confirmation" => options.requires_confirmation = flag(&meta)?,
                "external_execution" => options.external_execution = flag(&meta)?,
                "stop_after_call" => options.stop_after_call = flag(&meta)?,
                "cache" => options.cache = flag(&meta)?,
                "timeout" => {
                    let timeout: LitStr = meta.value()?.parse()?;
                    match parse_duration_ms(&timeout.value()) {
                        Ok(ms) => options.timeout_ms = Some(ms),
                        Err(message) => errors.spanned(&timeout, message),
                    }
                }
                _ => {
                    errors.spanned(
                        &meta.path,
                        format!("unknown `#[tool]` option `{key}`; expected one of {TOOL_OPTIONS}"),
                    );
                    return skip_value(&meta);
                }
            }
            Ok(())
        });
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        options
    }

    /// The options of an inner `#[tool]` / `#[tool(...)]` attribute (inside `#[toolkit]`).
    pub(crate) fn from_attr(attr: &Attribute, errors: &mut Errors) -> Self {
        match &attr.meta {
            Meta::Path(_) => Self::default(),
            Meta::List(list) => Self::parse(list.tokens.clone(), errors),
            Meta::NameValue(name_value) => {
                errors.spanned(name_value, "write the options in parentheses: `#[tool(name = \"...\")]`");
                Self::default()
            }
        }
    }
}

/// What `#[toolkit(...)]` says.
#[derive(Default)]
pub(crate) struct ToolkitOptions {
    pub(crate) name: Option<LitStr>,
    pub(crate) instructions: Option<LitStr>,
}

impl ToolkitOptions {
    /// Parses the arguments of `#[toolkit(...)]`, reporting every bad option.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut options = Self::default();
        let mut seen = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let Some(key) = option_key(&meta, &mut seen, errors) else {
                return skip_value(&meta);
            };
            match key.as_str() {
                "name" => options.name = Some(meta.value()?.parse()?),
                "instructions" => options.instructions = Some(meta.value()?.parse()?),
                _ => {
                    errors.spanned(
                        &meta.path,
                        format!("unknown `#[toolkit]` option `{key}`; expected one of {TOOLKIT_OPTIONS}"),
                    );
                    return skip_value(&meta);
                }
            }
            Ok(())
        });
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        options
    }
}

/// The option's name, or `None` (with an error) when it is not a plain
/// identifier or was already given.
fn option_key(meta: &ParseNestedMeta<'_>, seen: &mut Vec<String>, errors: &mut Errors) -> Option<String> {
    let Some(ident) = meta.path.get_ident() else {
        errors.spanned(&meta.path, "expected an option name such as `name` or `timeout`");
        return None;
    };
    let key = ident.to_string();
    if seen.contains(&key) {
        errors.spanned(ident, format!("the option `{key}` is given twice"));
        return None;
    }
    seen.push(key.clone());
    Some(key)
}

/// A flag option: `strict`, or `strict = true` / `strict = false`.
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) { Ok(meta.value()?.parse::<LitBool>()?.value) } else { Ok(true) }
}

/// Consumes whatever follows an option we could not use, so parsing goes on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|nested| skip_value(&nested))?;
    }
    Ok(())
}

/// `"500ms"`, `"30s"` or `"2m"` in milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let invalid = || format!("invalid timeout `{text}`: write a whole number with a unit: `500ms`, `30s` or `2m`");
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let amount: u64 = digits.parse().map_err(|_| invalid())?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => return Err(invalid()),
    };
    let ms = amount.checked_mul(factor).ok_or_else(invalid)?;
    if ms == 0 {
        return Err(format!("invalid timeout `{text}`: a timeout must be longer than zero"));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations_accept_ms_s_and_m() {
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert!(parse_duration_ms("30").is_err());
        assert!(parse_duration_ms("1.5s").is_err());
        assert!(parse_duration_ms("0s").is_err());
        assert!(parse_duration_ms("3h").is_err());
    }
}

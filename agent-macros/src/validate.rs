//! Checking a tool against its docs and the provider's rules, into a `ToolSpec`.

use syn::{Attribute, Ident};

use crate::diagnostics::Errors;
use crate::docs::Docs;
use crate::options::ToolOptions;
use crate::parse::ToolSig;

/// The longest tool name the Claude API accepts (`^[a-zA-Z0-9_-]{1,64}$`).
const MAX_NAME_LEN: usize = 64;

/// Everything the expansion needs for one tool, checked.
pub(crate) struct ToolSpec {
    pub(crate) sig: ToolSig,
    pub(crate) options: ToolOptions,
    pub(crate) name: String,
    pub(crate) description: String,
    /// One entry per parameter of `sig.params`, from the `# Arguments` list.
    pub(crate) param_docs: Vec<Option<String>>,
}

impl ToolSpec {
    /// Checks the name, the description and the `# Arguments` list against the signature.
    pub(crate) fn validate(sig: ToolSig, options: ToolOptions, attrs: &[Attribute], errors: &mut Errors) -> Self {
        let docs = Docs::parse(attrs, errors);
        let name = tool_name(&sig.ident, &options, errors);
        let description = match (&options.description, docs.description) {
            (Some(description), _) => description.value().trim().to_owned(),
            (None, Some(description)) => description,
            (None, None) => {
                errors.spanned(
                    &sig.ident,
                    "a tool needs a description: add a doc comment (its first paragraph is sent to the model) \
                     or `#[tool(description = \"...\")]`",
                );
                String::new()
            }
        };

        let mut param_docs = vec![None; sig.params.len()];
        let context_name = sig.context.as_ref().map(|context| context.name.as_str());
        for argument in docs.arguments {
            if context_name == Some(argument.name.as_str()) {
                // The injected context may be documented; the model never sees it.
                continue;
            }
            match sig.params.iter().position(|param| param.name == argument.name) {
                Some(index) if param_docs[index].is_some() => {
                    errors.at(argument.span, format!("`{}` is documented twice in `# Arguments`", argument.name));
                }
                Some(index) => param_docs[index] = Some(argument.text),
                None => errors.at(
                    argument.span,
                    format!("`# Arguments` documents `{}`, which is not a parameter of this tool", argument.name),
                ),
            }
        }
        Self { sig, options, name, description, param_docs }
    }
}

/// The name the model calls the tool by: `name = "..."` or the function's name.
fn tool_name(ident: &Ident, options: &ToolOptions, errors: &mut Errors) -> String {
    let (name, problem) = match &options.name {
        Some(lit) => {
            let name = lit.value();
            let problem = name_problem(&name);
            (name, problem.map(|problem| (lit.span(), problem)))
        }
        None => {
            let name = ident.to_string().trim_start_matches("r#").to_owned();
            let problem = name_problem(&name);
            (name, problem.map(|problem| (ident.span(), problem)))
        }
    };
    if let Some((span, problem)) = problem {
        errors.at(span, format!("invalid tool name `{name}`: {problem}"));
    }
    name
}

fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a tool name must not be empty".to_owned());
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Some(format!("`{bad}` is not allowed; tool names use only ASCII letters, digits, `_` and `-`"));
    }
    if name.len() > MAX_NAME_LEN {
        return Some(format!("a tool name is at most {MAX_NAME_LEN} characters, this one has {}", name.len()));
    }
    None
}

/// `get_weather` → `GetWeather`.
pub(crate) fn pascal_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for word in snake.trim_start_matches("r#").split('_').filter(|word| !word.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// `WeatherTools` → `weather_tools`, `HTTPClient` → `http_client`.
pub(crate) fn snake_case(pascal: &str) -> String {
    let chars: Vec<char> = pascal.chars().collect();
    let mut out = String::with_capacity(pascal.len() + 4);
    for (index, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && index > 0 {
            let previous = chars[index - 1];
            let next_is_lower = chars.get(index + 1).is_some_and(|next| next.is_lowercase());
            if previous.is_lowercase() || previous.is_ascii_digit() || (previous.is_uppercase() && next_is_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(pascal_case("get_weather"), "GetWeather");
        assert_eq!(pascal_case("_private_tool"), "PrivateTool");
        assert_eq!(pascal_case("r#type"), "Type");
        assert_eq!(snake_case("WeatherTools"), "weather_tools");
        assert_eq!(snake_case("HTTPClient"), "http_client");
        assert_eq!(snake_case("Db2Store"), "db2_store");
    }

    #[test]
    fn names_follow_the_api_pattern() {
        assert!(name_problem("get_weather-v2").is_none());
        assert!(name_problem("").is_some());
        assert!(name_problem("get weather").is_some());
        assert!(name_problem("météo").is_some());
        assert!(name_problem(&"a".repeat(64)).is_none());
        assert!(name_problem(&"a".repeat(65)).is_some());
    }
}

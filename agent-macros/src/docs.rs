//! Reading a tool's doc comment: the description and the `# Arguments` list.

use proc_macro2::Span;
use syn::{Attribute, Expr, ExprLit, Lit, Meta};

use crate::diagnostics::Errors;

/// What the doc comment says about a tool.
pub(crate) struct Docs {
    /// The first paragraph, lines joined by spaces.
    pub(crate) description: Option<String>,
    /// The entries of the `# Arguments` section, in order.
    pub(crate) arguments: Vec<ArgumentDoc>,
}

/// One `* `name` - text` entry of the `# Arguments` section.
pub(crate) struct ArgumentDoc {
    pub(crate) name: String,
    pub(crate) text: String,
    /// The doc line the entry starts on.
    pub(crate) span: Span,
}

struct Line {
    text: String,
    span: Span,
}

impl Docs {
    /// Reads the `#[doc = "..."]` attributes (what `///` becomes).
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let lines = doc_lines(attrs);
        let description = first_paragraph(&lines);
        let arguments = arguments_section(&lines, errors);
        Self { description, arguments }
    }
}

fn doc_lines(attrs: &[Attribute]) -> Vec<Line> {
    let mut lines = Vec::new();
    for attr in attrs {
        let Meta::NameValue(name_value) = &attr.meta else { continue };
        if !name_value.path.is_ident("doc") {
            continue;
        }
        let Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) = &name_value.value else { continue };
        for text in lit.value().split('\n') {
            lines.push(Line { text: text.trim_end().to_owned(), span: lit.span() });
        }
    }
    lines
}

/// The level and title of a Markdown heading line.
fn heading(text: &str) -> Option<&str> {
    let trimmed = text.trim_start();
    let title = trimmed.trim_start_matches('#');
    (title.len() < trimmed.len() && (title.is_empty() || title.starts_with(' '))).then(|| title.trim())
}

fn first_paragraph(lines: &[Line]) -> Option<String> {
    let paragraph: Vec<&str> = lines
        .iter()
        .map(|line| line.text.trim())
        .skip_while(|text| text.is_empty())
        .take_while(|text| !text.is_empty() && heading(text).is_none())
        .collect();
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

fn arguments_section(lines: &[Line], errors: &mut Errors) -> Vec<ArgumentDoc> {
    let mut arguments: Vec<ArgumentDoc> = Vec::new();
    let mut in_section = false;
    for line in lines {
        if let Some(title) = heading(&line.text) {
            in_section = title.eq_ignore_ascii_case("arguments");
            continue;
        }
        let text = line.text.trim();
        if !in_section || text.is_empty() {
            continue;
        }
        match text.strip_prefix(['*', '-', '+']).filter(|rest| rest.starts_with(' ')) {
            Some(entry) => match parse_entry(entry.trim()) {
                Some((name, text)) => arguments.push(ArgumentDoc { name, text, span: line.span }),
                None => {
                    errors.at(line.span, "cannot read this `# Arguments` entry; write it as `* `name` - what it is`")
                }
            },
            // A continuation line of the previous entry.
            None => {
                if let Some(last) = arguments.last_mut() {
                    if !last.text.is_empty() {
                        last.text.push(' ');
                    }
                    last.text.push_str(text);
                }
            }
        }
    }
    arguments
}

/// `` `city` - City name `` (also `city: City name`) into its name and text.
fn parse_entry(entry: &str) -> Option<(String, String)> {
    let (name, rest) = match entry.strip_prefix('`') {
        Some(quoted) => quoted.split_once('`')?,
        None => entry.split_at(entry.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(entry.len())),
    };
    let name = name.trim().trim_start_matches("r#");
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let rest = rest.trim_start();
    let text = ["-", ":", "–", "—"].iter().find_map(|separator| rest.strip_prefix(separator)).unwrap_or(rest);
    Some((name.to_owned(), text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(source: &str) -> (Docs, bool) {
        let item: syn::ItemFn = syn::parse_str(&format!("{source}\nfn f() {{}}")).expect("a function");
        let mut errors = Errors::default();
        let docs = Docs::parse(&item.attrs, &mut errors);
        (docs, errors.is_empty())
    }

    #[test]
    fn first_paragraph_is_the_description() {
        let (docs, ok) = docs("/// Gets the weather\n/// for a city.\n///\n/// More detail.");
        assert!(ok);
        assert_eq!(docs.description.as_deref(), Some("Gets the weather for a city."));
    }

    #[test]
    fn arguments_entries_with_continuations() {
        let (docs, ok) = docs(
            "/// Weather.\n///\n/// # Arguments\n///\n/// * `city` - City name,\n///   in English.\n/// - unit: Unit\n///\n/// # Errors\n/// * `x` - not an argument",
        );
        assert!(ok);
        let entries: Vec<_> = docs.arguments.iter().map(|arg| (arg.name.as_str(), arg.text.as_str())).collect();
        assert_eq!(entries, [("city", "City name, in English."), ("unit", "Unit")]);
    }

    #[test]
    fn unreadable_entry_is_an_error() {
        let (_, ok) = docs("/// Weather.\n///\n/// # Arguments\n/// * - nothing");
        assert!(!ok);
    }
}

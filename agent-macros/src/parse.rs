//! Reading a tool function's signature into what the expansion needs.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, Pat, PathArguments, ReturnType, Signature, Type, parse_quote};

use crate::diagnostics::Errors;

/// A tool function's signature, as the macro sees it.
pub(crate) struct ToolSig {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    /// The deps type of a first `&RunContext<D>` parameter (`()` for `&RunContext`).
    pub(crate) context: Option<Context>,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

/// The injected `&RunContext<D>` parameter.
pub(crate) struct Context {
    pub(crate) name: String,
    pub(crate) deps: Type,
}

/// A parameter the model supplies.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    /// The argument name in the schema (the identifier without `r#`).
    pub(crate) name: String,
    pub(crate) ty: Type,
}

/// What the function returns, and so how its value becomes a tool result.
pub(crate) enum Output {
    /// No return type: the result is JSON `null`.
    Unit,
    /// A value sent as is: a `ToolOutput`, or anything `Serialize`.
    Value(Box<Type>),
    /// `Result<T, E>`; `err` is `None` for one-argument aliases such as `anyhow::Result<T>`.
    Result { ok: Box<Type>, err: Option<Box<Type>>, span: Span },
}

/// Whether the function is a `#[toolkit]` method (which must take `&self`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Receiver {
    Forbidden,
    Required,
}

impl ToolSig {
    /// Reads the signature, reporting every unsupported part.
    pub(crate) fn parse(sig: &Signature, receiver: Receiver, errors: &mut Errors) -> Self {
        if !sig.generics.params.is_empty() {
            errors.spanned(
                &sig.generics,
                "a tool cannot be generic: its parameter types must be known to build its schema",
            );
        } else if let Some(where_clause) = &sig.generics.where_clause {
            errors.spanned(where_clause, "a tool cannot have a `where` clause");
        }
        if let syn::Safety::Unsafe(unsafety) = &sig.safety {
            errors.spanned(unsafety, "a tool cannot be an `unsafe fn`");
        }
        if let Some(abi) = &sig.abi {
            errors.spanned(abi, "a tool cannot have an `extern` ABI");
        }
        if let Some(variadic) = &sig.variadic {
            errors.spanned(variadic, "a tool cannot be variadic");
        }
        check_receiver(sig, receiver, errors);

        let mut context = None;
        let mut params = Vec::new();
        let typed = sig.inputs.iter().filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        });
        for (index, arg) in typed.enumerate() {
            if let Some(context_ref) = run_context(&arg.ty) {
                if index > 0 {
                    errors.spanned(&arg.ty, "the `&RunContext` parameter must come first");
                } else if let Some(deps) = context_ref {
                    context = Some(Context { name: plain_name(&arg.pat).unwrap_or_default(), deps });
                } else {
                    errors.spanned(&arg.ty, "take the run context by shared reference: `&RunContext<D>`");
                }
                continue;
            }
            let Some(ident) = plain_ident(&arg.pat) else {
                errors.spanned(
                    &arg.pat,
                    "a tool parameter needs a plain name (it becomes the argument's name); destructure it in the body",
                );
                continue;
            };
            if check_param_type(&arg.ty, errors) {
                let name = ident.to_string().trim_start_matches("r#").to_owned();
                params.push(Param { ident, name, ty: (*arg.ty).clone() });
            }
        }

        Self {
            ident: sig.ident.clone(),
            is_async: sig.asyncness.is_some(),
            context,
            params,
            output: Output::from_return(&sig.output),
        }
    }
}

fn check_receiver(sig: &Signature, receiver: Receiver, errors: &mut Errors) {
    let found = sig.receiver();
    match (receiver, found) {
        (Receiver::Forbidden, Some(found)) => {
            errors.spanned(found, "a `self` parameter is only allowed on a method of an impl block marked `#[toolkit]`")
        }
        (Receiver::Required, None) => {
            errors.spanned(&sig.ident, "a `#[toolkit]` tool is a method taking `&self`");
        }
        (Receiver::Required, Some(found)) if !matches!(found.kind, syn::ReceiverKind::Reference(_, _, None)) => {
            errors.spanned(found, "a `#[toolkit]` tool takes `&self`: the tools share the value behind an `Arc`");
        }
        _ => {}
    }
}

/// `Some(Some(deps))` for `&RunContext<D>`, `Some(None)` for a context taken
/// any other way, `None` when the type is not a run context.
fn run_context(ty: &Type) -> Option<Option<Type>> {
    let (inner, by_shared_ref) = match ty {
        Type::Reference(reference) => (&*reference.elem, reference.mutability.is_none()),
        other => (other, false),
    };
    let Type::Path(path) = inner else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "RunContext" {
        return None;
    }
    if !by_shared_ref {
        return Some(None);
    }
    let deps = match &last.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        }),
        _ => None,
    };
    Some(Some(deps.unwrap_or_else(|| parse_quote!(()))))
}

fn plain_ident(pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(pat_ident) if pat_ident.by_ref.is_none() && pat_ident.subpat.is_none() => {
            Some(pat_ident.ident.clone())
        }
        _ => None,
    }
}

fn plain_name(pat: &Pat) -> Option<String> {
    plain_ident(pat).map(|ident| ident.to_string().trim_start_matches("r#").to_owned())
}

/// Rejects parameter types that cannot be deserialized into an owned value.
fn check_param_type(ty: &Type, errors: &mut Errors) -> bool {
    match ty {
        Type::Reference(_) => {
            errors.spanned(ty, "a tool parameter must be an owned type (such as `String` for `&str`)");
            false
        }
        Type::ImplTrait(_) => {
            errors.spanned(ty, "a tool parameter cannot be `impl Trait`: use a concrete type");
            false
        }
        _ => true,
    }
}

impl Output {
    fn from_return(output: &ReturnType) -> Self {
        let ReturnType::Type(_, ty) = output else { return Self::Unit };
        if let Type::Path(path) = &**ty
            && let Some(last) = path.path.segments.last()
            && last.ident == "Result"
            && let PathArguments::AngleBracketed(args) = &last.arguments
        {
            let mut types = args.args.iter().filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            });
            if let Some(ok) = types.next() {
                return Self::Result { ok: Box::new(ok), err: types.next().map(Box::new), span: ty.span() };
            }
        }
        Self::Value(ty.clone())
    }
}

/// Whether a type is named `name` (its last path segment), such as `ToolOutput`.
pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(path) if path.path.segments.last().is_some_and(|last| last.ident == name))
}

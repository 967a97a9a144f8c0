//! `#[toolkit]` on an impl block: its `#[tool]` methods become tools sharing the value.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{ImplItem, ItemImpl, Type};

use crate::diagnostics::Errors;
use crate::expand::{self, Callee, private};
use crate::options::{ToolOptions, ToolkitOptions};
use crate::parse::{Receiver, ToolSig};
use crate::tool::item_name_span;
use crate::validate::{ToolSpec, snake_case};

/// Expands `#[toolkit(attr)] item`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = ToolkitOptions::parse(attr, &mut errors);
    let mut item_impl: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            let parsed = syn::parse2::<syn::Item>(item.clone()).ok();
            errors.at(item_name_span(parsed.as_ref()), "`#[toolkit]` applies to an `impl` block");
            let compile_errors = errors.to_compile_errors();
            return quote!(#item #compile_errors);
        }
    };
    if let Some((path, _)) = &item_impl.trait_ {
        errors
            .spanned(path, "`#[toolkit]` applies to an inherent impl block (`impl MyTools { ... }`), not a trait impl");
    }
    if !item_impl.generics.params.is_empty() {
        errors.spanned(&item_impl.generics, "a `#[toolkit]` impl block cannot be generic");
    }
    let type_name = type_name(&item_impl.self_ty);
    if type_name.is_none() {
        errors.spanned(&item_impl.self_ty, "`#[toolkit]` needs a named type, such as `impl MyTools { ... }`");
    }

    let specs = take_tools(&mut item_impl, &mut errors);
    if specs.is_empty() && errors.is_empty() {
        errors.spanned(&item_impl.self_ty, "this `#[toolkit]` has no methods marked `#[tool]`");
    }
    let deps = shared_deps(&specs, &mut errors);

    let self_ty = &item_impl.self_ty;
    let toolkit_name = match (&options.name, &type_name) {
        (Some(name), _) => name.value(),
        (None, Some(type_name)) => snake_case(type_name),
        (None, None) => String::new(),
    };
    let p = private();
    if !errors.is_empty() {
        let compile_errors = errors.to_compile_errors();
        let stub = (type_name.is_some() && item_impl.generics.params.is_empty()).then(|| {
            quote! {
                impl<__D> #p::IntoToolkit<__D> for #self_ty {
                    fn into_toolkit(self) -> #p::Toolkit<__D> {
                        #p::Toolkit::new(#toolkit_name)
                    }
                }
            }
        });
        return quote!(#item_impl #stub #compile_errors);
    }

    let struct_idents: Vec<_> = specs.iter().enumerate().map(|(index, _)| format_ident!("__Tool{index}")).collect();
    let spec_refs: Vec<&ToolSpec> = specs.iter().collect();
    let helpers = expand::helpers(&spec_refs);
    let tools = specs.iter().zip(&struct_idents).enumerate().map(|(index, (spec, struct_ident))| {
        let items = expand::tool_items(spec, index, struct_ident, &Callee::Method { self_ty });
        quote! {
            struct #struct_ident(#p::Arc<#self_ty>);
            #items
        }
    });
    let (impl_generics, deps) = match deps {
        Some(deps) => (TokenStream::new(), quote!(#deps)),
        None => (quote!(<__D: ::core::marker::Send + ::core::marker::Sync + 'static>), quote!(__D)),
    };
    let instructions = options.instructions.map(|instructions| quote!(.instructions(#instructions)));
    quote! {
        #item_impl

        const _: () = {
            #helpers
            #(#tools)*

            impl #impl_generics #p::IntoToolkit<#deps> for #self_ty {
                fn into_toolkit(self) -> #p::Toolkit<#deps> {
                    let __shared = #p::Arc::new(self);
                    #p::Toolkit::new(#toolkit_name)
                        #instructions
                        #(.tool(#struct_idents(#p::Arc::clone(&__shared))))*
                }
            }
        };
    }
}

/// Removes the inner `#[tool]` attributes (the standalone macro must never see
/// `&self`) and checks each marked method.
fn take_tools(item_impl: &mut ItemImpl, errors: &mut Errors) -> Vec<ToolSpec> {
    let mut specs = Vec::new();
    for impl_item in &mut item_impl.items {
        let ImplItem::Fn(method) = impl_item else { continue };
        let mut options = None;
        let mut kept = Vec::with_capacity(method.attrs.len());
        for attr in std::mem::take(&mut method.attrs) {
            if attr.path().segments.last().is_none_or(|last| last.ident != "tool") {
                kept.push(attr);
            } else if options.is_some() {
                errors.spanned(&attr, "`#[tool]` is given twice on this method");
            } else {
                options = Some(ToolOptions::from_attr(&attr, errors));
            }
        }
        method.attrs = kept;
        let Some(options) = options else { continue };
        let sig = ToolSig::parse(&method.sig, Receiver::Required, errors);
        specs.push(ToolSpec::validate(sig, options, &method.attrs, errors));
    }
    specs
}

/// The deps type the tools share: the one of every `&RunContext<D>` parameter,
/// or `None` when no tool takes the context.
fn shared_deps<'a>(specs: &'a [ToolSpec], errors: &mut Errors) -> Option<&'a Type> {
    let mut shared: Option<(&Type, String, &str)> = None;
    for spec in specs {
        let Some(context) = &spec.sig.context else { continue };
        let deps = &context.deps;
        let key = quote!(#deps).to_string();
        match &shared {
            None => shared = Some((deps, key, &spec.name)),
            Some((_, first_key, first_tool)) if *first_key != key => errors.spanned(
                deps,
                format!("the tools of a toolkit share one deps type: `{first_tool}` takes `RunContext<{first_key}>`"),
            ),
            Some(_) => {}
        }
    }
    shared.map(|(deps, _, _)| deps)
}

/// The name of the type an impl block is for (`Weather` in `impl Weather`).
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().map(|last| last.ident.to_string()),
        _ => None,
    }
}

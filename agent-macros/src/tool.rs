//! `#[tool]` on a function: parse → validate → expand, with a fallback on errors.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::diagnostics::Errors;
use crate::expand::{self, Callee};
use crate::options::ToolOptions;
use crate::parse::{Receiver, ToolSig};
use crate::validate::ToolSpec;

/// Expands `#[tool(attr)] item`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = ToolOptions::parse(attr, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            not_a_function(&item, &mut errors);
            let compile_errors = errors.to_compile_errors();
            return quote!(#item #compile_errors);
        }
    };

    let sig = ToolSig::parse(&function.sig, Receiver::Forbidden, &mut errors);
    let spec = ToolSpec::validate(sig, options, &function.attrs, &mut errors);
    let struct_ident = expand::struct_ident(&function.sig.ident);

    if !errors.is_empty() {
        let compile_errors = errors.to_compile_errors();
        // A method (of a plain impl block) cannot be followed by a struct item.
        if function.sig.receiver().is_some() {
            return quote!(#function #compile_errors);
        }
        let unit_struct = expand::unit_struct(&function.vis, &struct_ident, &function.sig.ident);
        let stub = expand::stub_tool_impl(&struct_ident, &spec.name);
        return quote! {
            #function
            #unit_struct
            #stub
            #compile_errors
        };
    }

    let unit_struct = expand::unit_struct(&function.vis, &struct_ident, &function.sig.ident);
    let helpers = expand::helpers(&[&spec]);
    let tool_items = expand::tool_items(&spec, 0, &struct_ident, &Callee::Free);
    quote! {
        #function
        #unit_struct
        const _: () = {
            #helpers
            #tool_items
        };
    }
}

/// Reports `#[tool]` on something other than a function, at the item's name.
fn not_a_function(item: &TokenStream, errors: &mut Errors) {
    let message = "`#[tool]` applies to a function (`fn` or `async fn`)";
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(item_impl)) => errors.spanned(
            &item_impl.self_ty,
            format!("{message}; for the methods of an impl block, use `#[toolkit]` on the block"),
        ),
        parsed => errors.at(item_name_span(parsed.ok().as_ref()), message),
    }
}

/// The name of an item, or its first tokens, for errors about the whole item.
pub(crate) fn item_name_span(item: Option<&Item>) -> Span {
    match item {
        Some(Item::Struct(item)) => item.ident.span(),
        Some(Item::Enum(item)) => item.ident.span(),
        Some(Item::Fn(item)) => item.sig.ident.span(),
        Some(Item::Const(item)) => item.ident.span(),
        Some(Item::Static(item)) => item.ident.span(),
        Some(Item::Mod(item)) => item.ident.span(),
        Some(Item::Trait(item)) => item.ident.span(),
        Some(Item::Type(item)) => item.ident.span(),
        Some(Item::Impl(item)) => item.self_ty.span(),
        Some(other) => other.span(),
        None => Span::call_site(),
    }
}

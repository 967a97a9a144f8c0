//! `#[tool]` and `#[toolkit]`: custom tools from plain functions.
//!
//! Use them through `agent_core::tool` and `agent_core::toolkit`.

use proc_macro::TokenStream;

/// Turns a function into a tool. (Being written; see issue 4.)
#[proc_macro_attribute]
pub fn tool(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Turns an `impl` block's `#[tool]` methods into a toolkit. (Being written; see issue 4.)
#[proc_macro_attribute]
pub fn toolkit(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

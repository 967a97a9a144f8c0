//! Toolkits: tools that belong together, share state and add instructions.

use std::sync::Arc;

use super::Tool;

/// A named group of tools with optional instructions for the model.
///
/// `#[toolkit]` on an `impl` block generates an [`IntoToolkit`] impl whose
/// tools share the struct's state; a toolkit can also be assembled by hand.
pub struct Toolkit<D = ()> {
    name: String,
    instructions: Option<String>,
    tools: Vec<Arc<dyn Tool<D>>>,
}

impl<D> Toolkit<D> {
    /// An empty toolkit.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), instructions: None, tools: Vec::new() }
    }

    /// Instructions added to the agent's system prompt when the toolkit is used.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds a tool: a value, or a shared `Arc` of one.
    #[must_use]
    pub fn tool(mut self, tool: impl Tool<D>) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// The toolkit's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The toolkit's instructions, if any.
    pub fn instructions_text(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    /// The tools, in the order they were added.
    pub fn tools(&self) -> &[Arc<dyn Tool<D>>] {
        &self.tools
    }

    /// Splits the toolkit into its instructions and tools.
    pub fn into_parts(self) -> (Option<String>, Vec<Arc<dyn Tool<D>>>) {
        (self.instructions, self.tools)
    }
}

/// Anything that can become a [`Toolkit`].
pub trait IntoToolkit<D = ()> {
    /// Converts into a toolkit.
    fn into_toolkit(self) -> Toolkit<D>;
}

impl<D> IntoToolkit<D> for Toolkit<D> {
    fn into_toolkit(self) -> Toolkit<D> {
        self
    }
}

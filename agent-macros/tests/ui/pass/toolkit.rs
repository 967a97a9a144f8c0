//! A `#[toolkit]` keeps its methods and implements `IntoToolkit`; the inner
//! `#[tool]` attributes are consumed by it, so they need no import.

use std::sync::Mutex;

use agent_core::{IntoToolkit, RunContext, Toolkit, toolkit};

struct Deps;

#[derive(Default)]
struct NoteBook {
    notes: Mutex<Vec<String>>,
}

#[toolkit(instructions = "Keep notes short.")]
impl NoteBook {
    /// Adds a note.
    ///
    /// # Arguments
    ///
    /// * `text` - The note.
    #[tool(cache)]
    fn add_note(&self, ctx: &RunContext<Deps>, text: String) -> usize {
        let _ = ctx.deps();
        let mut notes = self.notes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        notes.push(text);
        notes.len()
    }

    /// Lists the notes.
    #[agent_core::tool]
    async fn list_notes(&self) -> Vec<String> {
        self.notes.lock().map(|notes| notes.clone()).unwrap_or_default()
    }

    /// Not a tool.
    fn count(&self) -> usize {
        self.notes.lock().map(|notes| notes.len()).unwrap_or_default()
    }
}

fn main() {
    let book = NoteBook::default();
    assert_eq!(book.count(), 0);
    let toolkit: Toolkit<Deps> = book.into_toolkit();
    assert_eq!(toolkit.name(), "note_book");
    assert_eq!(toolkit.tools().len(), 2);
}

//! agent-claude (being written).

//! agent-memory (being written).

//! User memories: facts about a user that agents remember across sessions.

//! Knowledge bases: documents agents search to answer from (retrieval-augmented generation).

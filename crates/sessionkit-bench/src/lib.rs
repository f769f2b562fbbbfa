//! See the examples.

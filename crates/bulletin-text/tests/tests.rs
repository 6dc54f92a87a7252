//! Integration tests of the text format: one binary, one module per concern.

mod corpus;
mod errors;
mod generated;
mod roundtrip;

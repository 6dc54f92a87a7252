//! bulletin-mail's integration tests: one binary, one module per concern.

mod common;
mod message;
mod props;
mod render;
mod send;

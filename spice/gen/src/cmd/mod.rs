//! spicegen's command layer: one module per subcommand, each with a `run` that `main` calls.
//! What two commands share lives outside this layer: the repository paths and writing
//! ([`crate::repo`]), the report sections of `all` and `check` ([`crate::report`]), the studies
//! ([`crate::sensitivity`], [`crate::loadgen`]).

pub mod all;
pub mod check;
pub mod loads;
pub mod loads_random;
pub mod sensitivity;
pub mod table;

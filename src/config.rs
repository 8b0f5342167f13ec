//! Configuration: `configs/*.toml` merged over the defaults, then flags.

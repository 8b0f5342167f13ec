//! Batch fitting: many regions in parallel, one result per region.

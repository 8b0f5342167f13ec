//! The optimizer stack: bound-constrained L-BFGS-B and the first-order
//! family, as argmin solvers that work on any loss.

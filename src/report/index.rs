//! The batch's `index.html` (filled in below).

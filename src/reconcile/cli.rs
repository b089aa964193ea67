//! `dsguard reconcile` (being written).

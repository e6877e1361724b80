//! End-to-end test (written in the foundation step).

//! Math operators: rolling MAX, MIN, SUM and friends.

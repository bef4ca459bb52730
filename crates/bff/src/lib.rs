//! conferbot-bff (being built).

//! conferbot-sandbox (being built).

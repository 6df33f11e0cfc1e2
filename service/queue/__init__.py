"""The manifest queue: cursor reads with long poll, and the JetStream relay."""

//! Diff: compare what a verb would apply with what the cluster holds, redact Secrets, and render
//! the result as a colored diff, simple lines, JSON or Markdown.

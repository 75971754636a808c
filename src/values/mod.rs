//! Values: layering (chart → `values/<env>.yaml` → `-f` → `--set*`), Helm's `strvals` parser,
//! coalescing, and `values.schema.json` checks.

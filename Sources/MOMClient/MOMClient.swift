// The MOMClient module. See docs/architecture.md for its responsibility and allowed imports.

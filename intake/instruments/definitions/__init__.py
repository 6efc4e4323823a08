"""One module per published instrument; each exposes `DEFINITION`. The registry lists them in order."""

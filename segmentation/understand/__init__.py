"""Quality metrics and per-segment profiles: contrasts, phrases, rules, names."""

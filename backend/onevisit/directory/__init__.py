"""The directories: one list of matters, two directories (subjects, inspectors) — 一单两库."""

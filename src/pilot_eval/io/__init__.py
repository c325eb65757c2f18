"""Readers for the toolkit's input files (police.uk, boundaries, MPS tables...)."""

"""pilot-eval."""

"""Presentation: Dutch text, figures, publishing numbers, page blocks, the notebook context."""

"""Statistics: index, reliability, answer distributions, adjusted means, comparisons, findings, tables, disclosure control."""

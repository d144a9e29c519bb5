"""Data: the contract, reading files, the synthetic dataset."""

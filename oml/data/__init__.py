"""Data: the contract, reading files, the synthetic dataset."""

#: Prefix of every id in the synthetic data (schools, boards, pupils). Kept here, in a module that imports
#: nothing, so that light code (the access layer of a no-op build) can tell synthetic ids without pandas.
SYNTHETIC_PREFIX = "SYN-"

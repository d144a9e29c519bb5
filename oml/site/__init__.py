"""Site: the build (data, notebooks, Jupyter Book)."""

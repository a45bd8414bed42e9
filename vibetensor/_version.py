# The package version; tests/test_tensor_api.py checks it against pyproject.toml's.
__version__ = "0.1.0"

"""Search spaces: architectures as immutable values, pure NumPy."""

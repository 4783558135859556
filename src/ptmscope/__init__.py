"""ptmscope: measure software package registries (Hugging Face Hub, npm, PyPI)."""

__version__ = "0.1.0"

"""The scoring engine: pure numpy/pandas/scikit-learn, no Django (a library, see STYLE.md)."""

"""The forecasting core: pure numpy/pandas/scikit-learn, no Django. Services bridge to it."""

"""leadpact: lead management that makes marketing and sales one team around leads."""

__version__ = "0.1.0"

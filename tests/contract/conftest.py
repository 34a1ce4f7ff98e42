"""BigCommerce spec fixtures for every contract test."""

from .bigcommerce_spec import bigcommerce_exchanges, bigcommerce_specs

__all__ = ["bigcommerce_exchanges", "bigcommerce_specs"]

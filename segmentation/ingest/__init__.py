"""Reading files, column roles, privacy, cleaning and order lines rolled up to customers."""

"""File adapters: reading import files and writing exports and rejects."""

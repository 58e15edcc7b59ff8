"""Import a district from a bureau's files into a city GeoPackage (``main.py import-city``)."""

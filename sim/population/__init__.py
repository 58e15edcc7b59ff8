"""Population: the persons as arrays, their yearly demography, and the plain-Mesa twin."""
